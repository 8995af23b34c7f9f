package flowtrace

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// TestStartPipelineOptions: a program gives Start its own sampler, span
// processors, exporter and logger next to config options (on 030e853
// Start took config.Option only, and none of these could be given).
func TestStartPipelineOptions(t *testing.T) {
	t.Parallel()
	t.Run("sampler", func(t *testing.T) {
		t.Parallel()
		rec := tracetest.NewRecorder()
		tracing := Start(context.Background(), isolated(map[string]string{"OTEL_TRACES_SAMPLER": "always_on"},
			config.WithExporter(config.ExporterNone), WithSampler(tracer.AlwaysOff()), WithSpanProcessor(rec))...)
		require.Equal(t, "always_off", tracing.Tracer().Sampler().Description(), "the program's sampler wins over the environment's")
		tracing.Tracer().StartSpan("dropped").Finish()
		require.NoError(t, shutdown(t, tracing, time.Second))
		require.Zero(t, rec.Len())
	})
	t.Run("processors without an exporter", func(t *testing.T) {
		t.Parallel()
		first, second := tracetest.NewRecorder(), tracetest.NewRecorder()
		tracing := Start(context.Background(), isolated(nil, config.WithExporter(config.ExporterNone),
			WithSpanProcessor(first), WithSpanProcessor(nil), WithSpanProcessor(second))...)
		tracing.Tracer().StartSpan("checkout").Finish()
		require.Equal(t, 1, first.Len())
		require.Equal(t, 1, second.Len())
		require.NoError(t, shutdown(t, tracing, time.Second))
		tracing.Tracer().StartSpan("after shutdown").Finish()
		require.Equal(t, int64(1), first.Dropped(), "Shutdown reached the processor")
	})
	t.Run("exporter behind the batcher", func(t *testing.T) {
		t.Parallel()
		exp, rec := tracetest.NewRecorder(), tracetest.NewRecorder()
		// OTEL_TRACES_EXPORTER=none: the program's exporter still wins.
		tracing := Start(context.Background(), isolated(map[string]string{"OTEL_TRACES_EXPORTER": "none"},
			WithSpanExporter(exp), WithSpanProcessor(rec))...)
		for i := 0; i < 3; i++ {
			tracing.Tracer().StartSpan("op").Finish()
		}
		require.NoError(t, tracing.ForceFlush(context.Background()))
		require.Equal(t, 3, exp.Len())
		require.Equal(t, 3, rec.Len(), "processors come after the batcher and see every span")
		require.NoError(t, shutdown(t, tracing, time.Second))
		st := tracing.Stats()
		require.Equal(t, int64(3), st.Export.Exported, "the batcher in front of the program's exporter counts")
	})
	t.Run("logger", func(t *testing.T) {
		t.Parallel()
		var out lockedBuffer
		logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
		tracing := Start(context.Background(), isolated(map[string]string{
			"OTEL_TRACES_SAMPLER":        "sometimes\x1b[31m",
			"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20S3CRET-TOKEN",
		}, config.WithExporter(config.ExporterNone), WithLogger(logger))...)
		require.NoError(t, shutdown(t, tracing, time.Second))
		var msgs []string
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var rec struct {
				Level, Msg, Component string
			}
			require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
			require.Equal(t, "flowtrace", rec.Component)
			msgs = append(msgs, rec.Level+" "+rec.Msg)
		}
		all := strings.Join(msgs, "\n")
		require.Contains(t, all, `WARN OTEL_TRACES_SAMPLER="sometimes\x1b[31m": unknown sampler`, "escaped, one warning")
		require.Contains(t, all, "INFO service=")
		require.NotContains(t, all, "S3CRET")
		require.NotContains(t, all, "\x1b")
	})
}

// TestStatsPerTracing: the flow-id, edge and semantic-convention counters
// are per Tracing (on 030e853 flowid.Invalid, tracegrpc.DroppedValues and
// tracekafka.ReadStats were process-wide, so two SDKs in one process, or
// two parallel tests, mixed their figures).
func TestStatsPerTracing(t *testing.T) {
	t.Parallel()
	start := func() *Tracing {
		return Start(context.Background(), isolated(map[string]string{"FLOWTRACE_SEMCONV_MODE": "warn"},
			config.WithExporter(config.ExporterNone), WithSpanProcessor(tracetest.NewRecorder()), WithLogger(slog.New(slog.DiscardHandler)))...)
	}
	a, b := start(), start()
	bad := opentracing.HTTPHeadersCarrier{"X-Flow-Id": []string{"bad id\r\n"}}
	_, _ = a.Tracer().Extract(opentracing.HTTPHeaders, bad)
	_, _ = a.Tracer().Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier{
		"X-Flow-Id": []string{"from-header"}, "Baggage": []string{"flow_id=from-baggage"}})
	a.Tracer().Edge().DroppedValues.Add(1) // as tracegrpc's interceptors do
	sp := a.Tracer().StartSpan("op")
	sp.SetTag("http.status_code", "not a number")
	sp.Finish()
	require.NoError(t, shutdown(t, a, time.Second))
	require.NoError(t, shutdown(t, b, time.Second))

	sa, sb := a.Stats(), b.Stats()
	require.Equal(t, propagation.FlowIDStats{Invalid: 1, Mismatches: 1}, sa.FlowID)
	require.Equal(t, uint64(1), sa.Edge.DroppedValues)
	require.NotEmpty(t, sa.Semconv.ByKey)
	require.Zero(t, sb.FlowID)
	require.Zero(t, sb.Edge)
	require.Empty(t, sb.Semconv.ByKey)
}
