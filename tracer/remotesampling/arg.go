package remotesampling

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of OpenTelemetry's jaeger_remote sampler arguments.
const (
	DefaultEndpoint            = "localhost:14250"
	DefaultPollingInterval     = 60 * time.Second
	DefaultInitialSamplingRate = 0.001
)

// Bounds of the arguments: a polling interval under 100 ms would poll a
// strategy server thousands of times a minute from every process; one
// over a day would never follow a change.
const (
	minPollingInterval = 100 * time.Millisecond
	maxPollingInterval = 24 * time.Hour
	maxArgLength       = 4096
)

// Args are the parsed OTEL_TRACES_SAMPLER_ARG of jaeger_remote.
type Args struct {
	Endpoint            string
	PollingInterval     time.Duration
	InitialSamplingRate float64
}

// ParseArg reads OpenTelemetry's jaeger_remote argument syntax,
// "endpoint=…,pollingIntervalMs=…,initialSamplingRate=…" (each key
// optional, in any order). Each bad or unknown entry is left out with a
// warning (values are not repeated in it: an endpoint may carry a
// password) and its default is used; the result is always usable.
func ParseArg(arg string) (Args, []string) {
	a := Args{Endpoint: DefaultEndpoint, PollingInterval: DefaultPollingInterval, InitialSamplingRate: DefaultInitialSamplingRate}
	var warnings []string
	if len(arg) > maxArgLength {
		return a, []string{fmt.Sprintf("argument of %d bytes is over %d; using the defaults", len(arg), maxArgLength)}
	}
	seen := map[string]bool{}
	for _, entry := range strings.Split(arg, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		key, value, ok := strings.Cut(entry, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || value == "" {
			warnings = append(warnings, fmt.Sprintf("entry %s has no value; left out", printable(key)))
			continue
		}
		if seen[key] {
			warnings = append(warnings, fmt.Sprintf("%s given twice; the first is used", printable(key)))
			continue
		}
		seen[key] = true
		switch key {
		case "endpoint":
			if err := checkEndpoint(value); err != nil {
				warnings = append(warnings, fmt.Sprintf("endpoint: %v; using %s", err, DefaultEndpoint))
				continue
			}
			a.Endpoint = value
		case "pollingIntervalMs":
			ms, err := strconv.ParseInt(value, 10, 64)
			d := time.Duration(ms) * time.Millisecond
			if err != nil || ms <= 0 || d < minPollingInterval || d > maxPollingInterval {
				warnings = append(warnings, fmt.Sprintf("pollingIntervalMs is not an integer in [%d, %d]; using %d",
					minPollingInterval.Milliseconds(), maxPollingInterval.Milliseconds(), DefaultPollingInterval.Milliseconds()))
				continue
			}
			a.PollingInterval = d
		case "initialSamplingRate":
			p, err := strconv.ParseFloat(value, 64)
			if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
				warnings = append(warnings, fmt.Sprintf("initialSamplingRate is not a number in [0, 1]; using %g", DefaultInitialSamplingRate))
				continue
			}
			a.InitialSamplingRate = p
		default:
			warnings = append(warnings, fmt.Sprintf("unknown key %s (known: endpoint, pollingIntervalMs, initialSamplingRate); left out", printable(key)))
		}
	}
	return a, warnings
}

// checkEndpoint accepts what the poller can reach: an http(s):// URL
// (HTTP, JSON), or host:port, grpc://host:port or grpcs://host:port
// (gRPC SamplingManager).
func checkEndpoint(v string) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return fmt.Errorf("contains spaces or control characters")
	}
	if scheme, rest, ok := strings.Cut(v, "://"); ok {
		switch strings.ToLower(scheme) {
		case "http", "https":
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				return fmt.Errorf("not a URL with a host")
			}
			return nil
		case "grpc", "grpcs":
			v = rest
		default:
			return fmt.Errorf("unknown scheme (want http, https, grpc, grpcs or none)")
		}
	}
	host, port, ok := strings.Cut(v, ":")
	if !ok || strings.ContainsAny(port, ":/") {
		if strings.HasPrefix(v, "[") { // [::1]:5779
			if i := strings.LastIndex(v, "]:"); i > 0 {
				host, port = v[:i+1], v[i+2:]
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("want host:port")
		}
	}
	if !validHost(host) {
		return fmt.Errorf("not a host name or IP address")
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("port is not a number in [1, 65535]")
	}
	return nil
}

// printable bounds and quotes a key for a warning.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

// validHost accepts a DNS name, an IPv4 address or a bracketed IPv6
// address: what a gRPC target's host can be.
func validHost(h string) bool {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		return net.ParseIP(h[1:len(h)-1]) != nil
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
