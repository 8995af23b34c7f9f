package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGRPCEndpointWithoutScheme: the OTLP specification says a gRPC
// endpoint without a scheme SHOULD be accepted, the insecure setting then
// choosing TLS (false or unset) or plaintext. On 030e853 it was a warning
// and the default localhost endpoint.
func TestGRPCEndpointWithoutScheme(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		opts     []Option
		endpoint string
		insecure bool
		summary  string
	}{
		{"ipv4, insecure unset: TLS", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4317"}, nil,
			"https://127.0.0.1:4317", false, "endpoint=https://127.0.0.1:4317 (no scheme given: TLS, as OTEL_EXPORTER_OTLP_INSECURE is not true) protocol=grpc"},
		{"insecure false: TLS", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector.example:4317", "OTEL_EXPORTER_OTLP_INSECURE": "false"}, nil,
			"https://collector.example:4317", false, "(no scheme given: TLS"},
		{"insecure true: plaintext", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4317", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "true"}, nil,
			"http://127.0.0.1:4317", true, "endpoint=http://127.0.0.1:4317 (no scheme given: plaintext, insecure) protocol=grpc"},
		{"ipv6", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "[::1]:4317"}, nil,
			"https://[::1]:4317", false, "(no scheme given: TLS"},
		{"option", nil, []Option{WithEndpoint("127.0.0.1:4317"), WithInsecure()},
			"http://127.0.0.1:4317", true, "(no scheme given: plaintext"},
		{"protocol set by option after the endpoint", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
			[]Option{WithEndpoint("127.0.0.1:4317"), WithProtocol("grpc")},
			"https://127.0.0.1:4317", false, "(no scheme given: TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := load(tc.env, nil, tc.opts...)
			require.Empty(t, c.Warnings)
			require.Equal(t, tc.endpoint, c.Endpoint)
			require.Equal(t, tc.insecure, c.Insecure)
			require.True(t, c.EndpointNoScheme)
			require.False(t, c.EndpointImplicit)
			require.Contains(t, c.Summary(), tc.summary)
		})
	}

	// Not host:port: still one warning each and the default endpoint.
	for _, v := range []string{"collector", "collector:0", "collector:99999", "user@collector:4317", "collector:4317/v1", "[fe80::1%eth0]:4317", ":4317"} {
		c := load(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": v}, nil)
		require.Len(t, c.Warnings, 1, v)
		require.Contains(t, c.Warnings[0], "OTEL_EXPORTER_OTLP_ENDPOINT", v)
		require.Equal(t, "http://localhost:4317", c.Endpoint, v)
	}
}

// TestTimeoutZeroMeansNoLimit: OTEL_EXPORTER_OTLP_TIMEOUT=0 is no
// per-request limit (OpenTelemetry), not a malformed value (030e853 warned
// and used 10000).
func TestTimeoutZeroMeansNoLimit(t *testing.T) {
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_TIMEOUT": "0"},
		{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "00"},
		{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "0", "OTEL_EXPORTER_OTLP_TIMEOUT": "5000"},
	} {
		c := load(env, nil)
		require.Empty(t, c.Warnings, env)
		require.Equal(t, time.Duration(0), c.Timeout, env)
		require.Equal(t, 30*time.Second, c.BatchExportTimeout, "the batch export deadline still applies")
	}
	c := load(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_TIMEOUT": "0"}, nil)
	require.Equal(t, 2500*time.Millisecond, c.Timeout, "the signal-specific variable wins")
}

// TestServiceNameBounded: a 10 KB OTEL_SERVICE_NAME was accepted silently
// on 030e853; each configured source is now bounded to 255 bytes, with one
// warning, and the next source in the chain names the service.
func TestServiceNameBounded(t *testing.T) {
	huge := strings.Repeat("s", 10<<10)
	c := load(map[string]string{"OTEL_SERVICE_NAME": huge}, nil)
	require.Len(t, c.Warnings, 1, "%q", c.Warnings)
	require.Contains(t, c.Warnings[0], "OTEL_SERVICE_NAME: service name too long (10240 bytes, limit 255); ignored")
	require.Equal(t, "inventory", c.ServiceName)
	require.Equal(t, "main module", c.ServiceNameSource)
	require.Equal(t, Attribute{Key: "service.name", Value: "inventory"}, c.Resource[0])

	max := strings.Repeat("s", maxServiceNameLen)
	c = load(map[string]string{"OTEL_SERVICE_NAME": max}, nil)
	require.Empty(t, c.Warnings)
	require.Equal(t, max, c.ServiceName)

	c = load(map[string]string{"OTEL_SERVICE_NAME": max + "s", "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"}, nil)
	require.Len(t, c.Warnings, 1)
	require.Equal(t, "from-attrs", c.ServiceName)

	c = load(map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=" + strings.Repeat("r", 300)}, nil)
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "OTEL_RESOURCE_ATTRIBUTES: service name too long")
	require.Equal(t, "inventory", c.ServiceName)
	require.Equal(t, Attribute{Key: "service.name", Value: "inventory"}, c.Resource[0])

	c = load(map[string]string{"OTEL_SERVICE_NAME": "env-svc"}, nil, WithServiceName(huge))
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "WithServiceName: service name too long")
	require.Equal(t, "env-svc", c.ServiceName)
}
