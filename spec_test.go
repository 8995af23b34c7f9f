package flowtrace

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/tracetest"
)

// startCaptured is Start with isolated settings and its output kept.
func startCaptured(t *testing.T, env map[string]string, opts ...config.Option) (*Tracing, string) {
	t.Helper()
	var out bytes.Buffer
	orig := stderr
	stderr = &out
	defer func() { stderr = orig }()
	tracing := Start(context.Background(), isolated(env, opts...)...)
	return tracing, out.String()
}

// TestGRPCEndpointWithoutSchemeExports: OTEL_EXPORTER_OTLP_ENDPOINT=host:port
// reaches a TLS collector when INSECURE is unset (the start-up line says
// TLS) and a plaintext one with INSECURE=true. On 030e853 both fell back
// to localhost with a warning.
func TestGRPCEndpointWithoutSchemeExports(t *testing.T) {
	tlsRcv, err := tracetest.NewTLSChaosReceiver()
	require.NoError(t, err)
	defer func() { require.NoError(t, tlsRcv.Close()) }()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, tlsRcv.CACertPEM(), 0o600))
	plain := newReceiver(t)

	for _, tc := range []struct {
		name, endpoint string
		env            map[string]string
		line           string
	}{
		{"TLS", tlsRcv.GRPCEndpoint(), map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": ca}, "(no scheme given: TLS"},
		{"plaintext", plain.GRPCEndpoint(), map[string]string{"OTEL_EXPORTER_OTLP_INSECURE": "true"}, "(no scheme given: plaintext, insecure)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = tc.endpoint[strings.Index(tc.endpoint, "://")+3:]
			tracing, out := startCaptured(t, tc.env)
			require.NotContains(t, out, "warning", out)
			require.Contains(t, out, tc.line)
			const n = 20
			for range n {
				tracing.Tracer().StartSpan("op").Finish()
			}
			require.NoError(t, shutdown(t, tracing, 10*time.Second))
			st := tracing.Stats().Export
			require.Equal(t, int64(n), st.Exported, "%+v", st)
		})
	}
}

// TestTimeoutZero: OTEL_EXPORTER_OTLP_TIMEOUT=0 is accepted as "no
// per-request limit" (030e853 warned and used 10 s); the batch export
// deadline still bounds each request, so a blackholed collector fails each
// batch after OTEL_BSP_EXPORT_TIMEOUT and the worker goes on to the next.
func TestTimeoutZero(t *testing.T) {
	require.Equal(t, 300*time.Millisecond, requestTimeout(config.Config{Timeout: 0, BatchExportTimeout: 300 * time.Millisecond}))
	require.Equal(t, time.Second, requestTimeout(config.Config{Timeout: time.Second, BatchExportTimeout: time.Minute}))

	bh, err := tracetest.NewBlackhole()
	require.NoError(t, err)
	defer bh.Close()
	tracing, out := startCaptured(t, map[string]string{
		"OTEL_EXPORTER_OTLP_TIMEOUT": "0",
		"OTEL_BSP_EXPORT_TIMEOUT":    "300",
		"OTEL_BSP_SCHEDULE_DELAY":    "10",
	}, config.WithEndpoint(bh.Endpoint()))
	require.NotContains(t, out, "warning", out)
	require.Equal(t, time.Duration(0), tracing.Config().Timeout)
	for i := int64(1); i <= 2; i++ {
		tracing.Tracer().StartSpan("op").Finish()
		require.Eventually(t, func() bool { return tracing.Stats().Export.DroppedExportFailed == i },
			20*time.Second, 10*time.Millisecond, "batch %d fails by the batch deadline, not never", i)
	}
	require.NoError(t, shutdown(t, tracing, 5*time.Second))
}
