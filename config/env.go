package config

import (
	"io/fs"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// lookupFunc reads one environment variable, like os.LookupEnv.
type lookupFunc func(string) (string, bool)

// maxEnvLen bounds every environment value the package reads; a longer value
// is ignored with a warning.
const maxEnvLen = 16 << 10

// Bounds shared by the environment and the options.
const (
	maxLimit      = 1 << 16 // span attribute/event/link counts
	maxValueLen   = 1 << 20 // attribute value length limit
	maxQueue      = 1 << 20 // queue and batch sizes, operation table
	maxMillis     = 3_600_000
	maxQueueBytes = 1 << 30
	minQueueBytes = 1 << 10
	maxOpRate     = 1e6
)

// env returns the first of names that is set to a non-empty value (after
// trimming spaces), so signal-specific names go first. An over-long value is
// reported and treated as unset.
func (st *state) env(lookup lookupFunc, names ...string) (name, value string, ok bool) {
	for _, n := range names {
		v, found := lookup(n)
		if !found {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if len(v) > maxEnvLen {
			st.warnf("%s: value too long (%d bytes, limit %d); ignored, using the default", n, len(v), maxEnvLen)
			return "", "", false
		}
		return n, v, true
	}
	return "", "", false
}

func (st *state) envString(lookup lookupFunc, dst *string, names ...string) {
	if _, v, ok := st.env(lookup, names...); ok {
		*dst = v
	}
}

func (st *state) envBool(lookup lookupFunc, dst *bool, names ...string) {
	name, v, ok := st.env(lookup, names...)
	if !ok {
		return
	}
	b, err := parseBool(v)
	if err != nil {
		st.warnf("%s=%s: %v; using %t", name, quote(v), err, *dst)
		return
	}
	*dst = b
}

func (st *state) envInt(lookup lookupFunc, dst *int, lo, hi int, names ...string) {
	name, v, ok := st.env(lookup, names...)
	if !ok {
		return
	}
	n, err := parseInt(v, lo, hi)
	if err != nil {
		st.warnf("%s=%s: %v; using %d", name, quote(v), err, *dst)
		return
	}
	*dst = n
}

// envMillis reads a duration in integer milliseconds, as OpenTelemetry does.
func (st *state) envMillis(lookup lookupFunc, dst *time.Duration, names ...string) {
	name, v, ok := st.env(lookup, names...)
	if !ok {
		return
	}
	d, err := parseMillis(v)
	if err != nil {
		st.warnf("%s=%s: %v; using %d", name, quote(v), err, dst.Milliseconds())
		return
	}
	*dst = d
}

func (st *state) envFloat(lookup lookupFunc, dst *float64, lo, hi float64, names ...string) {
	name, v, ok := st.env(lookup, names...)
	if !ok {
		return
	}
	f, err := parseFloat(v, lo, hi)
	if err != nil {
		st.warnf("%s=%s: %v; using %s", name, quote(v), err, strconv.FormatFloat(*dst, 'g', -1, 64))
		return
	}
	*dst = f
}

// envEnum reads a case-insensitive name from a fixed list.
func (st *state) envEnum(lookup lookupFunc, dst *string, allowed []string, names ...string) {
	name, v, ok := st.env(lookup, names...)
	if !ok {
		return
	}
	if e, ok := enum(v, allowed); ok {
		*dst = e
		return
	}
	st.warnf("%s=%s: unknown value (known: %s); using %s", name, quote(v), strings.Join(allowed, ", "), *dst)
}

func enum(v string, allowed []string) (string, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	if slices.Contains(allowed, v) {
		return v, true
	}
	return "", false
}

// fromEnv applies the OTEL_* and FLOWTRACE_* variables. See doc.go for the
// table.
func (st *state) fromEnv(env lookupFunc) {
	c := &st.cfg
	st.envBool(env, &c.Disabled, "OTEL_SDK_DISABLED")

	if name, v, ok := st.env(env, "OTEL_RESOURCE_ATTRIBUTES"); ok {
		attrs, bad := parseResourceAttributes(v)
		if len(bad) > 0 {
			st.warnf("%s: dropped %d malformed entries (first: %s); kept %d attributes", name, len(bad), quote(bad[0]), len(attrs))
		}
		st.envResource = attrs
		for _, a := range attrs {
			if a.Key == attrServiceName {
				st.setServiceName(a.Value.(string), name, prioEnvResource)
			}
		}
	}
	if name, v, ok := st.env(env, "OTEL_SERVICE_NAME"); ok {
		st.setServiceName(v, name, prioEnvName)
	}

	st.envEnum(env, &c.Exporter, exporterNames, "OTEL_TRACES_EXPORTER")
	st.envEnum(env, &c.Protocol, protocolNames, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	if name, v, ok := st.env(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"); ok {
		switch err := checkEndpoint(v); {
		case err == nil:
			st.setEndpoint(v, name, name == "OTEL_EXPORTER_OTLP_ENDPOINT", false)
		case isHostPort(v):
			// gRPC accepts host:port; the protocol is known only after
			// the options, so resolveEndpoint decides.
			st.setEndpoint(v, name, false, true)
		default:
			st.warnf("%s=%s: %v; using the default endpoint", name, quote(redactURL(v)), err)
		}
	}
	if name, _, ok := st.env(env, "OTEL_EXPORTER_OTLP_TRACES_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE"); ok {
		st.envBool(env, &st.insecure, name)
		st.insecureSource = name + "=true"
	}
	if name, v, ok := st.env(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"); ok {
		h, bad := parseHeaders(v)
		if bad > 0 {
			// Never show header content: an entry that fails to parse may
			// still be a token.
			st.warnf("%s: dropped %d malformed entries (values not shown); kept %d headers", name, bad, len(h))
		}
		if len(h) > 0 {
			c.Headers = h
		}
	}
	timeoutVars := []string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"}
	if _, v, ok := st.env(env, timeoutVars...); ok {
		if _, err := parseInt(v, 0, 0); err == nil {
			c.Timeout = 0 // OpenTelemetry: no per-request limit
		} else {
			st.envMillis(env, &c.Timeout, timeoutVars...)
		}
	}
	st.envEnum(env, &c.Compression, compressionNames, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION")
	st.envString(env, &c.Certificate, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
	st.transportFromEnv(env)
	st.envString(env, &c.ConsoleFile, "FLOWTRACE_CONSOLE_FILE")
	st.envEnum(env, &c.SemconvMode, semconvModes, "FLOWTRACE_SEMCONV_MODE")
	st.envString(env, &c.SemconvRegistry, "FLOWTRACE_SEMCONV_REGISTRY")

	// The sampler's name and argument pass through unjudged: the sampler
	// mapping is flowtrace.Start's (one owner), and an argument's syntax
	// depends on the sampler.
	if name, v, ok := st.env(env, "OTEL_TRACES_SAMPLER"); ok {
		c.Sampler, c.SamplerSource = strings.ToLower(strings.TrimSpace(v)), name
	}
	if _, v, ok := st.env(env, "OTEL_TRACES_SAMPLER_ARG"); ok {
		c.SamplerArg = strings.TrimSpace(v)
	}
	st.envFloat(env, &c.OperationRateLimit, 0, maxOpRate, "FLOWTRACE_SAMPLER_OPERATION_RATE")
	st.envInt(env, &c.MaxOperations, 1, maxQueue, "FLOWTRACE_SAMPLER_MAX_OPERATIONS")

	if _, v, ok := st.env(env, "OTEL_PROPAGATORS"); ok {
		st.setPropagators(parseList(v))
	}

	st.envInt(env, &c.AttributeCountLimit, 0, maxLimit, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT")
	st.envInt(env, &c.AttributeValueLengthLimit, 1, maxValueLen, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")
	st.envInt(env, &c.EventCountLimit, 0, maxLimit, "OTEL_SPAN_EVENT_COUNT_LIMIT")
	st.envInt(env, &c.LinkCountLimit, 0, maxLimit, "OTEL_SPAN_LINK_COUNT_LIMIT")

	st.envMillis(env, &c.BatchScheduleDelay, "OTEL_BSP_SCHEDULE_DELAY")
	st.envMillis(env, &c.BatchExportTimeout, "OTEL_BSP_EXPORT_TIMEOUT")
	st.envInt(env, &c.MaxQueueSize, 1, maxQueue, "OTEL_BSP_MAX_QUEUE_SIZE")
	st.envInt(env, &c.MaxExportBatchSize, 1, maxQueue, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE")
	st.envInt(env, &c.MaxQueueBytes, minQueueBytes, maxQueueBytes, "FLOWTRACE_BSP_MAX_QUEUE_BYTES")

	st.envBool(env, &st.cloud, "FLOWTRACE_CLOUD_METADATA")
	if name, v, ok := st.env(env, "FLOWTRACE_K8S_LABELS_FILE"); ok {
		p := strings.TrimPrefix(v, "/")
		if !strings.HasPrefix(v, "/") || !fs.ValidPath(p) {
			st.warnf("%s=%s: not a clean absolute path; using /%s", name, quote(v), defaultLabelsFile)
		} else {
			st.labelsFile = p
		}
	}
}

// setPropagators sets the propagator list from names, trimmed, with empty
// names dropped. Which names exist, and what "none" among others means, is
// the propagation registry's to decide (propagation.Select): a format
// registered by the service (propagation.Register) must be reachable from
// OTEL_PROPAGATORS, and one policy in one place keeps the start-up line
// and the tracer in agreement. A list with no name at all keeps the
// current value.
func (st *state) setPropagators(names []string) {
	var out []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	if len(out) > 0 {
		st.cfg.Propagators = out
	}
}

// endpointSetting is one configured endpoint and where it came from.
type endpointSetting struct {
	endpoint, source  string
	generic, noScheme bool
}

func (st *state) setEndpoint(v, source string, generic, noScheme bool) {
	var prev *endpointSetting
	if noScheme && st.endpoint != "" {
		prev = &endpointSetting{st.endpoint, st.endpointSource, st.endpointGeneric, st.endpointNoScheme}
		if st.endpointNoScheme {
			prev = st.endpointPrev
		}
	}
	st.endpoint, st.endpointSource, st.endpointGeneric, st.endpointNoScheme = v, source, generic, noScheme
	st.endpointPrev = prev
}

// isHostPort accepts a bare gRPC target host:port (a DNS name, an IPv4
// address or a bracketed IPv6 address, and a port in 1..65535): what the
// OTLP specification lets gRPC endpoints omit the scheme from.
func isHostPort(s string) bool {
	if strings.Contains(s, "://") {
		return false
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || strings.ContainsAny(host, "/@?#%[] \t") {
		return false
	}
	if _, err := parseInt(port, 1, 65535); err != nil {
		return false
	}
	u, err := url.Parse("grpc://" + s)
	return err == nil && u.Host == s && u.Path == "" && u.Hostname() != ""
}

// checkEndpoint accepts absolute http and https URLs with a host.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errString("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errString("needs an http:// or https:// scheme")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errString("no host")
	}
	if p := u.Port(); p != "" {
		if _, err := parseInt(p, 1, 65535); err != nil {
			return errString("bad port")
		}
	}
	return nil
}

// redactURL removes credentials and the query from a URL before it is
// printed.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User != nil {
			u.User = url.User("REDACTED")
		}
		if u.RawQuery != "" {
			u.RawQuery = "REDACTED"
		}
		u.Fragment, u.RawFragment = "", ""
		return u.String()
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = "REDACTED@" + s[i+1:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

// quote makes a bad value safe to print in a warning: at most 64 bytes (cut
// at a rune boundary), quoted with Go escapes.
func quote(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..." + "(" + strconv.Itoa(len(s)) + " bytes)"
}

type errString string

func (e errString) Error() string { return string(e) }

// parseBool accepts true and false in any case, as OpenTelemetry specifies.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errString("not true or false")
}

// parseInt parses a decimal integer in [lo, hi].
func parseInt(s string, lo, hi int) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, errString("not an integer")
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, errString("out of range [" + strconv.Itoa(lo) + ", " + strconv.Itoa(hi) + "]")
	}
	return int(n), nil
}

// parseMillis parses integer milliseconds in [1, 3600000].
func parseMillis(s string) (time.Duration, error) {
	n, err := parseInt(s, 1, maxMillis)
	if err != nil {
		return 0, errString("milliseconds " + err.Error())
	}
	return time.Duration(n) * time.Millisecond, nil
}

// parseFloat parses a finite number in [lo, hi].
func parseFloat(s string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errString("not a number")
	}
	if f < lo || f > hi {
		return 0, errString("out of range [" + strconv.FormatFloat(lo, 'g', -1, 64) + ", " + strconv.FormatFloat(hi, 'g', -1, 64) + "]")
	}
	return f, nil
}

// maxListItems bounds comma-separated lists.
const maxListItems = 64

// parseList splits a comma-separated list, trimming spaces and dropping
// empty items; at most maxListItems items are returned.
func parseList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if len(out) == maxListItems {
			break
		}
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
