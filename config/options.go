package config

import (
	"io/fs"
	"maps"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Option changes the configuration [Load] returns. Options take precedence
// over environment variables; an option given a nil or empty value does
// nothing, and an option given an invalid value adds a warning and keeps the
// earlier value.
type Option interface {
	apply(*settings)
}

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// settings collects the options: the test seams Load needs before it reads
// the environment, and the overrides it applies after.
type settings struct {
	env        lookupFunc
	fsys       fs.FS
	osRoot     bool // fsys is the default os.DirFS("/"): read by path, see readBounded
	hostname   func() (string, error)
	executable func() (string, error)
	pid        int
	buildInfo  func() (*debug.BuildInfo, bool)

	cloud        bool
	cloudURLs    CloudMetadataURLs
	cloudTimeout time.Duration

	overrides []func(*state)
}

func newSettings(opts []Option) *settings {
	s := &settings{
		env:          os.LookupEnv,
		fsys:         os.DirFS("/"),
		osRoot:       true,
		hostname:     os.Hostname,
		executable:   os.Executable,
		pid:          os.Getpid(),
		buildInfo:    debug.ReadBuildInfo,
		cloudTimeout: cloudTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(s)
		}
	}
	return s
}

// override registers f to run after the environment has been read.
func override(f func(*state)) Option {
	return optionFunc(func(s *settings) { s.overrides = append(s.overrides, f) })
}

func noop() Option { return optionFunc(func(*settings) {}) }

// WithServiceName sets the service.name resource attribute. It overrides
// OTEL_SERVICE_NAME and service.name in OTEL_RESOURCE_ATTRIBUTES.
func WithServiceName(name string) Option {
	name = strings.TrimSpace(name)
	if name == "" {
		return noop()
	}
	return override(func(st *state) { st.setServiceName(name, "WithServiceName", prioOptName) })
}

// WithExporter selects "otlp", "console" or "none". It overrides
// OTEL_TRACES_EXPORTER.
func WithExporter(name string) Option {
	if strings.TrimSpace(name) == "" {
		return noop()
	}
	return override(func(st *state) { st.optEnum("WithExporter", name, exporterNames, &st.cfg.Exporter) })
}

// WithProtocol selects "grpc" or "http/protobuf". It overrides
// OTEL_EXPORTER_OTLP_PROTOCOL and OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.
func WithProtocol(protocol string) Option {
	if strings.TrimSpace(protocol) == "" {
		return noop()
	}
	return override(func(st *state) { st.optEnum("WithProtocol", protocol, protocolNames, &st.cfg.Protocol) })
}

func (st *state) optEnum(option, v string, allowed []string, dst *string) {
	if e, ok := enum(v, allowed); ok {
		*dst = e
		return
	}
	st.warnf("%s(%s): unknown value (known: %s); using %s", option, quote(v), strings.Join(allowed, ", "), *dst)
}

// WithEndpoint sets the full collector URL, used as is (for http/protobuf
// include the path, usually /v1/traces). The scheme decides TLS: http is
// plaintext, https is TLS. For gRPC a bare host:port is accepted too; it
// means TLS unless WithInsecure or OTEL_EXPORTER_OTLP_INSECURE=true says
// plaintext. It overrides OTEL_EXPORTER_OTLP_ENDPOINT and
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
func WithEndpoint(rawURL string) Option {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return noop()
	}
	return override(func(st *state) {
		if err := checkEndpoint(rawURL); err != nil {
			if isHostPort(rawURL) {
				st.setEndpoint(rawURL, "WithEndpoint", false, true)
				return
			}
			st.warnf("WithEndpoint(%s): %v; keeping the endpoint from the environment or the default", quote(redactURL(rawURL)), err)
			return
		}
		st.setEndpoint(rawURL, "WithEndpoint", false, false)
	})
}

// WithHeaders sets the headers sent with every export request, replacing
// those of OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS.
// Keys are lower-cased; invalid entries are dropped with a warning that does
// not show them.
func WithHeaders(headers map[string]string) Option {
	if len(headers) == 0 {
		return noop()
	}
	headers = maps.Clone(headers)
	return override(func(st *state) {
		h := make(map[string]string, len(headers))
		bad := 0
		for k, v := range headers {
			k = strings.ToLower(strings.TrimSpace(k))
			if _, dup := h[k]; !validHeader(k, v) || (!dup && len(h) == maxHeaders) {
				bad++
				continue
			}
			h[k] = v
		}
		if bad > 0 {
			st.warnf("WithHeaders: dropped %d invalid entries (values not shown); kept %d headers", bad, len(h))
		}
		if len(h) > 0 {
			st.cfg.Headers = h
		}
	})
}

// WithInsecure asks for a plaintext connection, like
// OTEL_EXPORTER_OTLP_INSECURE=true. As OpenTelemetry specifies, the
// endpoint's scheme decides: with an https:// endpoint it is ignored with a
// warning, and http:// endpoints and the default endpoint are plaintext
// anyway.
func WithInsecure() Option {
	return override(func(st *state) { st.insecure, st.insecureSource = true, "WithInsecure()" })
}

// WithSampler selects the sampler by name and, for "traceidratio" and
// "parentbased_traceidratio", its ratio in [0,1] (ignored by the others). It
// overrides OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. The name is
// judged where it is mapped to a sampler, by flowtrace.Start; a program
// that builds its own sampler passes flowtrace.WithSampler instead.
func WithSampler(name string, arg float64) Option {
	if strings.TrimSpace(name) == "" {
		return noop()
	}
	return override(func(st *state) {
		st.cfg.Sampler = strings.ToLower(strings.TrimSpace(name))
		st.cfg.SamplerArg = strconv.FormatFloat(arg, 'g', -1, 64)
		st.cfg.SamplerSource = "WithSampler"
	})
}

// WithOperationRateLimit caps new traces per second for each operation name
// (0 means unlimited). It overrides FLOWTRACE_SAMPLER_OPERATION_RATE.
func WithOperationRateLimit(perSecond float64) Option {
	return override(func(st *state) {
		if perSecond != perSecond || perSecond < 0 || perSecond > maxOpRate {
			st.warnf("WithOperationRateLimit(%s): out of range [0, %g]; using %s",
				strconv.FormatFloat(perSecond, 'g', -1, 64), float64(maxOpRate), strconv.FormatFloat(st.cfg.OperationRateLimit, 'g', -1, 64))
			return
		}
		st.cfg.OperationRateLimit = perSecond
	})
}

// WithPropagators sets the propagators by name, in order: tracecontext,
// baggage, b3, b3multi, jaeger, flowid, none, or a name given to
// propagation.Register. The names are resolved by flowtrace.Start with
// propagation.Select ("none" anywhere turns propagation off; unknown names
// are one warning). It overrides OTEL_PROPAGATORS.
func WithPropagators(names ...string) Option {
	if len(names) == 0 {
		return noop()
	}
	names = append([]string(nil), names...)
	return override(func(st *state) { st.setPropagators(names) })
}

// WithResourceAttributes adds resource attributes, replacing detected ones
// and those of OTEL_RESOURCE_ATTRIBUTES with the same key. Values must be
// string, bool, int64 or float64 (other integer and float types are
// converted); others are dropped with a warning. A service.name attribute
// sets the service name unless [WithServiceName] is given.
func WithResourceAttributes(attrs ...Attribute) Option {
	if len(attrs) == 0 {
		return noop()
	}
	attrs = append([]Attribute(nil), attrs...)
	return override(func(st *state) {
		for _, a := range attrs {
			v, ok := normalizeValue(a.Value)
			if !ok || !validAttrKey(a.Key) {
				st.warnf("WithResourceAttributes: attribute %s of type %T dropped (want a printable key and a bool, int64, float64 or UTF-8 string of at most 4096 bytes)", quote(a.Key), a.Value)
				continue
			}
			if a.Key == attrServiceName {
				name, _ := v.(string)
				if name = strings.TrimSpace(name); name == "" {
					st.warnf("WithResourceAttributes: service.name must be a non-empty string; dropped")
					continue
				}
				st.setServiceName(name, "WithResourceAttributes", prioOptResource)
			}
			st.optResource = append(st.optResource, Attribute{Key: a.Key, Value: v})
		}
	})
}

func normalizeValue(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return x, len(x) <= maxAttrValueLen && utf8.ValidString(x)
	case bool, int64, float64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case float32:
		return float64(x), true
	}
	return nil, false
}

// WithoutGlobalTracer keeps the tracer out of the OpenTracing global and
// the OpenTelemetry globals.
//
// Deprecated: the globals are flowtrace.Start's business, not the
// configuration's: use flowtrace.WithoutGlobalTracer, which this returns
// the equivalent of.
func WithoutGlobalTracer() Option { return Extension(globalTracerOff{}) }

// globalTracerOff is what the deprecated WithoutGlobalTracer carries;
// flowtrace.Start recognises it by its method.
type globalTracerOff struct{}

func (globalTracerOff) GlobalTracer() bool { return false }

// Extension returns an Option that [Load] ignores and that carries v to
// the code building an SDK on the configuration. flowtrace.Start's own
// options (a sampler, span processor, exporter or logger, the globals) are
// extensions, so that a program passes them in one list with the
// configuration's; [Extensions] gives them back.
func Extension(v any) Option { return extension{v: v} }

type extension struct{ v any }

func (extension) apply(*settings) {}

// Extensions returns the values the [Extension] options among opts carry,
// in order.
func Extensions(opts []Option) []any {
	var out []any
	for _, o := range opts {
		if e, ok := o.(extension); ok {
			out = append(out, e.v)
		}
	}
	return out
}

// WithCloudMetadata turns on cloud detection (AWS ECS, EC2, GCE) through the
// metadata endpoints, bounded to one second in total. It is the same as
// FLOWTRACE_CLOUD_METADATA=true.
func WithCloudMetadata() Option {
	return optionFunc(func(s *settings) { s.cloud = true })
}

// CloudMetadataURLs are the base URLs of the cloud metadata services; an
// empty field keeps the default. The ECS task endpoint comes from
// ECS_CONTAINER_METADATA_URI_V4.
type CloudMetadataURLs struct {
	EC2 string // default http://169.254.169.254
	GCE string // default http://metadata.google.internal
}

// WithCloudMetadataURLs points cloud detection at other metadata servers
// (an IMDS proxy, or a test server). It does not turn detection on.
func WithCloudMetadataURLs(urls CloudMetadataURLs) Option {
	return optionFunc(func(s *settings) {
		if urls.EC2 != "" {
			s.cloudURLs.EC2 = urls.EC2
		}
		if urls.GCE != "" {
			s.cloudURLs.GCE = urls.GCE
		}
	})
}

// WithConsoleFile makes the console exporter write to path instead of
// stderr. It overrides FLOWTRACE_CONSOLE_FILE.
func WithConsoleFile(path string) Option {
	if strings.TrimSpace(path) == "" {
		return noop()
	}
	return override(func(st *state) { st.cfg.ConsoleFile = path })
}

// WithEnv replaces os.LookupEnv as the source of environment variables, for
// tests and for programs that keep their settings elsewhere.
func WithEnv(lookup func(string) (string, bool)) Option {
	if lookup == nil {
		return noop()
	}
	return optionFunc(func(s *settings) { s.env = lookup })
}

// WithFileSystem replaces os.DirFS("/") as the root the detectors read
// (proc/self/cgroup, the service-account namespace, ...), for tests.
func WithFileSystem(fsys fs.FS) Option {
	if fsys == nil {
		return noop()
	}
	return optionFunc(func(s *settings) { s.fsys, s.osRoot = fsys, false })
}

// Unexported seams for this package's tests.

func withHostname(f func() (string, error)) Option {
	return optionFunc(func(s *settings) { s.hostname = f })
}

func withExecutable(f func() (string, error)) Option {
	return optionFunc(func(s *settings) { s.executable = f })
}

func withPID(pid int) Option {
	return optionFunc(func(s *settings) { s.pid = pid })
}

func withBuildInfo(f func() (*debug.BuildInfo, bool)) Option {
	return optionFunc(func(s *settings) { s.buildInfo = f })
}

func withCloudTimeout(d time.Duration) Option {
	return optionFunc(func(s *settings) { s.cloudTimeout = d })
}
