package config

import (
	"context"
	"crypto/tls"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SDKVersion is reported as the telemetry.sdk.version resource attribute.
const SDKVersion = "0.1.0"

// Exporter names accepted by OTEL_TRACES_EXPORTER and [WithExporter].
const (
	ExporterOTLP    = "otlp"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// Protocol names accepted by OTEL_EXPORTER_OTLP_PROTOCOL and [WithProtocol].
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

var (
	exporterNames      = []string{ExporterOTLP, ExporterConsole, ExporterNone}
	protocolNames      = []string{ProtocolGRPC, ProtocolHTTPProtobuf}
	compressionNames   = []string{"gzip", "none"}
	semconvModes       = []string{"off", "warn", "strict"}
	defaultPropagators = []string{"tracecontext", "baggage", "flowid"}
)

// Config is the resolved configuration of a flowtrace SDK. It is produced by
// [Load]; callers treat it as read-only.
type Config struct {
	// Disabled is set by OTEL_SDK_DISABLED=true: the SDK installs no-ops.
	Disabled bool
	// ServiceName is the service.name resource attribute.
	ServiceName string
	// ServiceNameSource says where ServiceName came from, for the start-up
	// line: "OTEL_SERVICE_NAME", "k8s label app.kubernetes.io/name", "main
	// module", "executable", ...
	ServiceNameSource string
	// Resource holds the resource attributes (service.name first, the rest
	// sorted by key).
	Resource []Attribute
	// Exporter is "otlp" (default), "console" or "none".
	Exporter string
	// Protocol is "grpc" (default, a documented deviation from OpenTelemetry:
	// node agents listen on 4317) or "http/protobuf".
	Protocol string
	// Endpoint is the full collector URL, for example "http://10.0.0.7:4317"
	// (grpc) or "http://localhost:4318/v1/traces" (http/protobuf).
	Endpoint string
	// EndpointImplicit is true when nobody configured an endpoint.
	EndpointImplicit bool
	// Insecure means plaintext: implicit endpoints and http:// URLs.
	Insecure bool
	// EndpointNoScheme is true when the endpoint was configured as a bare
	// host:port (gRPC only). Endpoint then has the scheme that
	// OTEL_EXPORTER_OTLP_INSECURE or WithInsecure chose: https (TLS)
	// unless one of them is true. Summary says which.
	EndpointNoScheme bool
	// Headers are sent with every export request. They are secrets: never
	// print or log them ([Config.Summary] and [Config.String] leave them out).
	Headers map[string]string
	// Timeout bounds one export request; 0 (OTEL_EXPORTER_OTLP_TIMEOUT=0)
	// means no per-request limit, as OpenTelemetry specifies:
	// BatchExportTimeout still bounds each export, so a hung collector
	// cannot stall the export worker.
	Timeout time.Duration
	// Compression is "gzip" or "none".
	Compression string
	// Certificate is the path of a PEM file of trusted CA certificates.
	Certificate string
	// ClientCertificate and ClientKey are the paths of the PEM client
	// certificate and key for mutual TLS (both or neither).
	ClientCertificate string
	ClientKey         string
	// TLSConfig is the base TLS configuration given by [WithTLSConfig]; nil
	// means flowtrace's own (TLS 1.2 or later, system roots).
	TLSConfig *tls.Config
	// MaxRequestBytes bounds the uncompressed bytes of one export request;
	// larger batches are split (FLOWTRACE_OTLP_MAX_REQUEST_BYTES).
	MaxRequestBytes int
	// LogLevel is the SDK log's level: "error", "warn", "info" (default)
	// or "debug" (OTEL_LOG_LEVEL).
	LogLevel string
	// ConsoleFile is where the console exporter writes; "" means stderr.
	ConsoleFile string
	// Sampler is the sampler's name as configured (OTEL_TRACES_SAMPLER or
	// [WithSampler]), trimmed and lower-cased but not judged: like the
	// propagator names, flowtrace.Start maps it to a sampler, and warns
	// about names and arguments it does not know.
	Sampler string
	// SamplerArg is the sampler's argument as configured
	// (OTEL_TRACES_SAMPLER_ARG, trimmed; "" if unset): a ratio for the
	// ratio samplers, other syntax for other samplers.
	SamplerArg string
	// SamplerSource names where Sampler came from, for warnings:
	// "default", "OTEL_TRACES_SAMPLER" or "WithSampler".
	SamplerSource string
	// OperationRateLimit is the maximum number of new traces per second per
	// operation name; 0 means unlimited.
	OperationRateLimit float64
	// MaxOperations bounds the sampler's per-operation table.
	MaxOperations int
	// Propagators lists propagator names in order, trimmed but otherwise as
	// given: config does not judge them. The propagation registry resolves
	// them (propagation.Select, called by flowtrace.Start, which replaces
	// this list with the names in effect).
	Propagators []string
	// AttributeCountLimit is the maximum number of attributes per span that
	// the caller sets; 0 keeps none, as in the OpenTelemetry specification
	// (see tracer.Limits).
	AttributeCountLimit int
	// AttributeValueLengthLimit is the maximum length of a string attribute
	// value in bytes (longer values are truncated).
	AttributeValueLengthLimit int
	// EventCountLimit is the maximum number of events (logs) per span.
	EventCountLimit int
	// LinkCountLimit is the maximum number of links per span.
	LinkCountLimit int
	// BatchScheduleDelay is the longest a finished span waits in the queue.
	BatchScheduleDelay time.Duration
	// BatchExportTimeout bounds one batch export including retries.
	BatchExportTimeout time.Duration
	// MaxQueueSize bounds the export queue in spans.
	MaxQueueSize int
	// MaxExportBatchSize is the largest batch; never above MaxQueueSize.
	MaxExportBatchSize int
	// MaxQueueBytes bounds the export queue in (estimated) bytes.
	MaxQueueBytes int
	// SemconvMode is how tags are checked against the semantic conventions:
	// "off" (default), "warn" or "strict" (see package semconv).
	SemconvMode string
	// SemconvRegistry is the path of an org's tag registry replacing the
	// built-in one; "" means built in.
	SemconvRegistry string
	// Warnings has one line per malformed value: the variable or option, the
	// bad value (truncated and escaped; never for secrets) and the fallback.
	Warnings []string
}

// Attribute is one resource attribute. Value is a string, bool, int64 or
// float64.
type Attribute struct {
	Key   string
	Value any
}

// Load resolves the configuration in one fixed order: defaults, then the
// environment (OTEL_* and FLOWTRACE_* variables), then opts, then platform
// detection (which fills only what is still unset), then validation.
//
// Load never fails and never panics: a malformed value keeps the default and
// adds one line to Config.Warnings. It does no network I/O unless cloud
// metadata detection is enabled, and that is bounded to one second in total
// (less if ctx expires sooner).
func Load(ctx context.Context, opts ...Option) (cfg Config) {
	defer func() {
		// Last line of defence against an injected lookup function or file
		// system that panics outside a detector.
		if r := recover(); r != nil {
			cfg = panicked(r)
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	s := newSettings(opts)
	st := defaults()
	st.fromEnv(s.env)
	st.applyOptions(s)
	st.detect(ctx, s)
	st.ensureValid()
	return st.cfg
}

// panicked is the configuration Load returns after recovering from a panic:
// the defaults, the default endpoint and one warning.
func panicked(r any) Config {
	st := defaults()
	st.warnf("config: panic while loading (%s); using defaults", quote(fmt.Sprint(r)))
	res := map[string]any{}
	sdk, _ := detectSDK(context.Background(), nil)
	for _, a := range sdk {
		res[a.Key] = a.Value
	}
	st.resolveEndpoint(func(string) (string, bool) { return "", false })
	st.ensureValid()
	st.cfg.Resource = sortedResource(res, st.cfg.ServiceName)
	return st.cfg
}

// Service-name priorities: a higher one replaces a lower one.
const (
	prioNone = iota
	prioEnvResource
	prioEnvName
	prioOptResource
	prioOptName
)

// state is Config plus what is known only while loading.
type state struct {
	cfg Config

	servicePrio int

	endpoint        string // validated URL, "" if none configured
	endpointGeneric bool   // from OTEL_EXPORTER_OTLP_ENDPOINT: gets /v1/traces for http
	// endpointNoScheme: endpoint is a bare host:port (accepted for gRPC,
	// as OpenTelemetry specifies); endpointSource names where it came
	// from for the warning when the protocol turns out to be HTTP.
	endpointNoScheme bool
	endpointSource   string
	// endpointPrev is the endpoint a bare host:port replaced, used again
	// if the protocol is HTTP (which needs a URL).
	endpointPrev   *endpointSetting
	insecure       bool // OTEL_EXPORTER_OTLP_INSECURE=true or WithInsecure
	insecureSource string

	envResource []Attribute
	optResource []Attribute

	cloud      bool
	labelsFile string // fs.FS path of the downward-API labels file
}

func defaults() *state {
	return &state{
		cfg: Config{
			Exporter:                  ExporterOTLP,
			SemconvMode:               "off",
			Protocol:                  ProtocolGRPC,
			Timeout:                   10 * time.Second,
			Compression:               "none",
			MaxRequestBytes:           defaultMaxRequestBytes,
			LogLevel:                  "info",
			Sampler:                   "parentbased_always_on",
			SamplerSource:             "default",
			MaxOperations:             2000,
			Propagators:               append([]string(nil), defaultPropagators...),
			AttributeCountLimit:       128,
			AttributeValueLengthLimit: 4096,
			EventCountLimit:           128,
			LinkCountLimit:            128,
			BatchScheduleDelay:        5 * time.Second,
			BatchExportTimeout:        30 * time.Second,
			MaxQueueSize:              2048,
			MaxExportBatchSize:        512,
			MaxQueueBytes:             8 << 20,
		},
		labelsFile: defaultLabelsFile,
	}
}

func (st *state) warnf(format string, args ...any) {
	st.cfg.Warnings = append(st.cfg.Warnings, fmt.Sprintf(format, args...))
}

// maxServiceNameLen bounds a configured service name, as detected names
// are bounded: the name is in every export request and every tool's output,
// and a 10 KB OTEL_SERVICE_NAME is a mistake, not a name.
const maxServiceNameLen = 255

func (st *state) setServiceName(name, source string, prio int) {
	if name == "" || prio < st.servicePrio {
		return
	}
	if len(name) > maxServiceNameLen {
		st.warnf("%s: service name too long (%d bytes, limit %d); ignored", source, len(name), maxServiceNameLen)
		return
	}
	st.cfg.ServiceName, st.cfg.ServiceNameSource, st.servicePrio = name, source, prio
}

func (st *state) applyOptions(s *settings) {
	for _, f := range s.overrides {
		f(st)
	}
	st.cloud = st.cloud || s.cloud
}

// ensureValid enforces the invariants between fields that each passed their
// own checks.
func (st *state) ensureValid() {
	c := &st.cfg
	if c.MaxExportBatchSize > c.MaxQueueSize {
		st.warnf("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=%d exceeds OTEL_BSP_MAX_QUEUE_SIZE=%d; using %d",
			c.MaxExportBatchSize, c.MaxQueueSize, c.MaxQueueSize)
		c.MaxExportBatchSize = c.MaxQueueSize
	}
	if c.ServiceName == "" {
		c.ServiceName, c.ServiceNameSource = fallbackServiceName, "default"
	}
	if c.Propagators == nil {
		c.Propagators = []string{}
	}
}

// Summary is the one-line start-up description: service name and its source,
// exporter, endpoint, protocol, sampler and propagators. It never contains
// header values, endpoint credentials or query strings.
func (c Config) Summary() string { return c.summary("") }

// SummaryWithSampler is [Config.Summary] with the sampler given as the
// description of the sampler that runs (e.g. "parentbased{traceidratio
// {0.25}}", which includes the operation rate limit), so that the line
// says what the tracer does; flowtrace.Start prints it.
func (c Config) SummaryWithSampler(description string) string { return c.summary(description) }

func (c Config) summary(sampler string) string {
	var b strings.Builder
	b.WriteString("flowtrace:")
	if c.Disabled {
		b.WriteString(" disabled by OTEL_SDK_DISABLED;")
	}
	fmt.Fprintf(&b, " service=%s", printable(c.ServiceName))
	if c.ServiceNameSource != "" {
		fmt.Fprintf(&b, " (from %s)", c.ServiceNameSource)
	}
	fmt.Fprintf(&b, " exporter=%s", printable(c.Exporter))
	switch c.Exporter {
	case ExporterOTLP:
		fmt.Fprintf(&b, " endpoint=%s", printable(redactURL(c.Endpoint)))
		if c.EndpointImplicit {
			b.WriteString(" (default)")
		}
		if c.EndpointNoScheme {
			if c.Insecure {
				b.WriteString(" (no scheme given: plaintext, insecure)")
			} else {
				b.WriteString(" (no scheme given: TLS, as OTEL_EXPORTER_OTLP_INSECURE is not true)")
			}
		}
		fmt.Fprintf(&b, " protocol=%s", printable(c.Protocol))
		if len(c.Headers) > 0 {
			fmt.Fprintf(&b, " headers=%d", len(c.Headers))
		}
	case ExporterConsole:
		file := c.ConsoleFile
		if file == "" {
			file = "stderr"
		}
		fmt.Fprintf(&b, " file=%s", printable(file))
	}
	switch {
	case sampler != "":
		fmt.Fprintf(&b, " sampler=%s", printable(sampler))
	default:
		fmt.Fprintf(&b, " sampler=%s", printable(c.Sampler))
		if c.SamplerArg != "" {
			fmt.Fprintf(&b, "(%s)", printable(c.SamplerArg))
		}
		if c.OperationRateLimit > 0 {
			fmt.Fprintf(&b, " operation_rate=%s/s", strconv.FormatFloat(c.OperationRateLimit, 'g', -1, 64))
		}
	}
	props := strings.Join(c.Propagators, ",")
	if props == "" {
		props = "none"
	}
	fmt.Fprintf(&b, " propagators=%s", printable(props))
	if len(c.Warnings) > 0 {
		fmt.Fprintf(&b, " warnings=%d", len(c.Warnings))
	}
	return b.String()
}

// String returns [Config.Summary], so that printing a Config by accident
// (fmt's %v and %+v) never prints the headers.
func (c Config) String() string { return c.Summary() }

// GoString returns [Config.Summary] for fmt's %#v, for the same reason.
func (c Config) GoString() string { return c.Summary() }

// printable returns s if it is plain printable ASCII without spaces, and a
// quoted, escaped form otherwise, so that a value cannot inject lines or
// terminal escapes into a log.
func printable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

// sortedResource builds the resource: service.name first, then the other
// keys in sorted order.
func sortedResource(m map[string]any, serviceName string) []Attribute {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != attrServiceName {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]Attribute, 0, len(keys)+1)
	out = append(out, Attribute{Key: attrServiceName, Value: serviceName})
	for _, k := range keys {
		out = append(out, Attribute{Key: k, Value: m[k]})
	}
	return out
}
