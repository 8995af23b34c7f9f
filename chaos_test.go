package flowtrace

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracetest"
)

func newChaos(t *testing.T, tlsServer bool) *tracetest.ChaosReceiver {
	t.Helper()
	newFn := tracetest.NewChaosReceiver
	if tlsServer {
		newFn = tracetest.NewTLSChaosReceiver
	}
	r, err := newFn()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

// TestStartAccountingUnderChaos runs Start's pipeline against each
// collector behaviour over gRPC and HTTP: after Shutdown with a deadline,
// every sampled span finished is exported or dropped with a reason.
func TestStartAccountingUnderChaos(t *testing.T) {
	wrongCA, err := tracetest.SelfSignedCAPEM()
	require.NoError(t, err)
	wrongCAFile := filepath.Join(t.TempDir(), "wrong-ca.pem")
	require.NoError(t, os.WriteFile(wrongCAFile, wrongCA, 0o600))

	for _, tc := range []struct {
		name     string
		behavior tracetest.Behavior
		tls      bool
		flip     tracetest.BehaviorKind // flip to healthy once hit twice; -1 never
		check    func(t *testing.T, st Stats, r *tracetest.ChaosReceiver)
	}{
		{"healthy", tracetest.Healthy(), false, -1, func(t *testing.T, st Stats, r *tracetest.ChaosReceiver) {
			require.Equal(t, st.Export.Enqueued, st.Export.Exported)
			require.Equal(t, int(st.Export.Exported), r.SpanCount())
		}},
		{"partial_success", tracetest.PartialSuccess(2, "span too large"), false, -1, func(t *testing.T, st Stats, r *tracetest.ChaosReceiver) {
			require.Positive(t, st.Export.DroppedRejected)
			require.Zero(t, st.Export.DroppedExportFailed)
			require.Equal(t, int(st.Export.Exported), r.SpanCount(), "Exported excludes rejected spans")
		}},
		{"unavailable_then_healthy", tracetest.Unavailable(100 * time.Millisecond), false, tracetest.KindUnavailable, func(t *testing.T, st Stats, r *tracetest.ChaosReceiver) {
			require.Equal(t, st.Export.Enqueued, st.Export.Exported)
			require.GreaterOrEqual(t, r.Hits(tracetest.KindUnavailable), int64(2))
		}},
		{"hang", tracetest.Hang(), false, -1, func(t *testing.T, st Stats, _ *tracetest.ChaosReceiver) {
			require.Zero(t, st.Export.Exported)
			require.Positive(t, st.Export.Unconfirmed, "sent to a collector that never answered: unconfirmed, not dropped")
		}},
		{"tls_wrong_certificate", tracetest.Healthy(), true, -1, func(t *testing.T, st Stats, r *tracetest.ChaosReceiver) {
			require.Zero(t, st.Export.Exported)
			require.Equal(t, st.Export.Enqueued, st.Export.DroppedExportFailed+st.Export.DroppedAtShutdown)
			require.Zero(t, r.TotalHits(), "no request gets past the handshake")
		}},
	} {
		for _, protocol := range []string{config.ProtocolGRPC, config.ProtocolHTTPProtobuf} {
			t.Run(tc.name+"/"+protocol, func(t *testing.T) {
				r := newChaos(t, tc.tls)
				r.SetBehavior(tc.behavior)
				endpoint := r.GRPCEndpoint()
				if protocol != config.ProtocolGRPC {
					endpoint = r.HTTPEndpoint()
				}
				env := map[string]string{
					"OTEL_BSP_SCHEDULE_DELAY":        "10",
					"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "50",
					"OTEL_EXPORTER_OTLP_TIMEOUT":     "2000",
					"OTEL_BSP_EXPORT_TIMEOUT":        "2000",
				}
				if tc.flip >= 0 {
					// HTTP rounds Retry-After up to whole seconds: leave room for two.
					env["OTEL_EXPORTER_OTLP_TIMEOUT"], env["OTEL_BSP_EXPORT_TIMEOUT"] = "5000", "5000"
				}
				if tc.name == "hang" {
					env["OTEL_EXPORTER_OTLP_TIMEOUT"], env["OTEL_BSP_EXPORT_TIMEOUT"] = "300", "300"
				}
				if tc.tls {
					env["OTEL_EXPORTER_OTLP_CERTIFICATE"] = wrongCAFile
				}
				before := otelErrors.Stats()
				tracing := Start(context.Background(), isolated(env, config.WithEndpoint(endpoint), config.WithProtocol(protocol))...)
				tr := tracing.Tracer()
				const n = 300
				start := time.Now()
				for range n {
					tr.StartSpan("op").Finish()
				}
				require.Less(t, time.Since(start), 2*time.Second, "Finish does not wait for the collector")
				if tc.flip >= 0 {
					require.Eventually(t, func() bool { return r.Hits(tc.flip) >= 2 }, 10*time.Second, time.Millisecond)
					r.SetBehavior(tracetest.Healthy())
				}
				const deadline = 3 * time.Second
				start = time.Now()
				err := shutdown(t, tracing, deadline)
				took := time.Since(start)
				require.LessOrEqual(t, took, deadline+time.Second)
				if err != nil {
					require.ErrorIs(t, err, context.DeadlineExceeded)
				}
				tr.StartSpan("late").Finish()

				st := tracing.Stats()
				t.Logf("%s/%s: finished=%d exported=%d queue_full=%d export_failed=%d rejected=%d shutdown=%d shutdown_took=%v",
					tc.name, protocol, st.Tracer.Finished, st.Export.Exported, st.Export.DroppedQueueFull,
					st.Export.DroppedExportFailed, st.Export.DroppedRejected, st.Export.DroppedShutdown, took.Round(time.Millisecond))
				require.Equal(t, uint64(n+1), st.Tracer.Finished)
				// finished = exported + dropped + unconfirmed
				require.Equal(t, int64(st.Tracer.Finished), st.Export.Exported+st.Export.Dropped()+st.Export.Unconfirmed, "%+v", st.Export)
				require.Equal(t, int64(1), st.Export.DroppedAfterShutdown)
				require.Equal(t, before.PartialSuccesses, st.OpenTelemetry.PartialSuccesses,
					"the transport reads partial successes from responses; none reach the global handler")
				tc.check(t, st, r)
			})
		}
	}
}

// countingLogger counts the lines written to it.
type countingLogger struct {
	mu sync.Mutex
	n  int
}

func (c *countingLogger) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

func (c *countingLogger) lines() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestStartInstallsRateLimitedErrorHandler: Start installs the handler for
// an OTLP pipeline; an error storm through otel.Handle is counted in full
// and logged once per interval.
func TestStartInstallsRateLimitedErrorHandler(t *testing.T) {
	r := newChaos(t, false)
	saved := otelErrors
	logs := &countingLogger{}
	otelErrors = newTestHandler(logs)
	defer func() { otelErrors = saved; otel.SetErrorHandler(saved) }()

	tracing := Start(context.Background(), isolated(nil, config.WithEndpoint(r.GRPCEndpoint()))...)
	otelErrors.SetLogger(sdklog.NewSlog(logs, sdklog.LevelInfo)) // Start pointed it at its own logger
	for range 1000 {
		otel.Handle(errors.New("exporter says no"))
	}
	otel.Handle(errors.New("OTLP partial success: too many (3 spans rejected)"))
	require.NoError(t, shutdown(t, tracing, 5*time.Second))
	st := tracing.Stats().OpenTelemetry
	require.Equal(t, int64(1001), st.Errors)
	require.Equal(t, int64(1), st.PartialSuccesses)
	require.Equal(t, int64(3), st.Rejected)
	require.Equal(t, 2, logs.lines(), "one line for the first error, one summary at Shutdown")
	require.Zero(t, tracing.Stats().Export.DroppedRejected, "a partial success from elsewhere is not charged to the pipeline")
}

func newTestHandler(l *countingLogger) *export.ErrorHandler {
	return export.NewErrorHandler(sdklog.NewSlog(l, sdklog.LevelInfo), time.Hour)
}
