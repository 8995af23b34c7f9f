package flowtrace

import (
	"context"
	"net/http"
	"testing"
	"testing/fstest"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/log"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// isolated keeps the machine's environment and files out of a test.
func isolated(env map[string]string, opts ...config.Option) []config.Option {
	return append([]config.Option{
		config.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		config.WithFileSystem(fstest.MapFS{}),
		WithoutGlobalTracer(),
	}, opts...)
}

func newReceiver(t *testing.T) *tracetest.Receiver {
	rcv, err := tracetest.NewReceiver()
	require.NoError(t, err)
	t.Cleanup(func() { _ = rcv.Close() })
	return rcv
}

func shutdown(t *testing.T, tracing *Tracing, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return tracing.Shutdown(ctx)
}

func TestStartExportsOverTheWire(t *testing.T) {
	rcv := newReceiver(t)
	for _, tc := range []struct {
		protocol string
		endpoint string
	}{
		{config.ProtocolGRPC, rcv.GRPCEndpoint()},
		{config.ProtocolHTTPProtobuf, rcv.HTTPEndpoint()},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			rcv.Reset()
			tracing := Start(context.Background(), isolated(map[string]string{
				"OTEL_SERVICE_NAME":        "checkout",
				"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test,team=payments",
			}, config.WithEndpoint(tc.endpoint), config.WithProtocol(tc.protocol))...)
			tr := tracing.Tracer()
			root := tr.StartSpan("GET /checkout", ext.SpanKindRPCServer)
			root.SetBaggageItem(tracer.FlowIDKey, "flow-42")
			other := tr.StartSpan("batch")
			child := tr.StartSpan("SELECT", opentracing.ChildOf(root.Context()), tracer.LinkTo(other.Context()))
			child.SetTag("db.type", "sql").SetTag("rows", 3)
			child.LogFields(log.String("event", "error"), log.Error(context.DeadlineExceeded))
			child.Finish()
			other.Finish()
			root.Finish()
			require.NoError(t, shutdown(t, tracing, 5*time.Second))

			spans := rcv.Spans()
			require.Len(t, spans, 3)
			byName := map[string]tracetest.Span{}
			for _, s := range spans {
				byName[s.Name] = s
				require.Equal(t, "checkout", s.Resource["service.name"])
				require.Equal(t, "test", s.Resource["deployment.environment"])
				require.Equal(t, "flowtrace", s.Resource["telemetry.sdk.name"])
			}
			r, c, o := byName["GET /checkout"], byName["SELECT"], byName["batch"]
			rc := root.Context().(*tracer.SpanContext)
			require.Equal(t, rc.TraceID().String(), r.TraceID)
			require.Equal(t, rc.SpanID().String(), r.SpanID)
			require.Equal(t, tracer.KindServer, r.Kind)
			require.Equal(t, r.TraceID, c.TraceID)
			require.Equal(t, r.SpanID, c.ParentSpanID)
			require.Empty(t, r.ParentSpanID)
			require.Len(t, c.Links, 1)
			require.Equal(t, o.SpanID, c.Links[0].SpanID)
			require.Equal(t, int64(3), c.Attributes["rows"])
			require.Equal(t, "flow-42", c.Attributes["flow_id"], "the flow id is on every span")
			require.Equal(t, tracer.StatusError, c.Status.Code)
			require.Equal(t, "error", c.Events[0].Name)
			require.Equal(t, 1.0, r.Attributes[tracer.SamplingProbabilityKey])
		})
	}
}

func TestShutdownDeliversEverythingQueued(t *testing.T) {
	rcv := newReceiver(t)
	tracing := Start(context.Background(), isolated(map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "4096"},
		config.WithEndpoint(rcv.GRPCEndpoint()))...)
	const n = 3000
	for i := 0; i < n; i++ {
		tracing.Tracer().StartSpan("op").Finish()
	}
	require.NoError(t, shutdown(t, tracing, 10*time.Second))
	require.Equal(t, n, rcv.SpanCount())
	st := tracing.Stats()
	require.Equal(t, uint64(n), st.Tracer.Finished)
	require.Equal(t, int64(n), st.Export.Exported)
	require.Zero(t, st.Export.Dropped())
}

func TestBlackholedCollector(t *testing.T) {
	bh, err := tracetest.NewBlackhole()
	require.NoError(t, err)
	defer bh.Close()
	logged := &lockedBuffer{}
	orig := stderr
	stderr = logged
	defer func() { stderr = orig }()
	tracing := Start(context.Background(), isolated(map[string]string{
		"OTEL_BSP_MAX_QUEUE_SIZE":       "512",
		"OTEL_EXPORTER_OTLP_TIMEOUT":    "200",
		"OTEL_BSP_SCHEDULE_DELAY":       "10",
		"FLOWTRACE_BSP_MAX_QUEUE_BYTES": "65536",
	}, config.WithEndpoint(bh.Endpoint()))...)
	tr := tracing.Tracer()
	const n = 20000
	for i := 0; i < n; i++ {
		s := tr.StartSpan("op")
		s.SetTag("payload", "0123456789abcdef0123456789abcdef")
		s.Finish()
		if i%1000 == 0 {
			st := tracing.Stats().Export
			require.LessOrEqual(t, st.QueueLen, int64(512))
			require.LessOrEqual(t, st.QueueBytes, int64(65536))
		}
	}
	start := time.Now()
	_ = shutdown(t, tracing, 500*time.Millisecond)
	require.Less(t, time.Since(start), 2*time.Second, "Shutdown returns by its deadline")
	require.Contains(t, logged.String(), "dropped", "a service that stops says whether its last spans made it")
	st := tracing.Stats()
	require.Equal(t, uint64(n), st.Tracer.Finished)
	require.Equal(t, int64(n), st.Export.Exported+st.Export.Dropped()+st.Export.Unconfirmed, "finished = exported + dropped + unconfirmed")
	require.Positive(t, st.Export.DroppedQueueFull)

	// Finishing after Shutdown is a counted drop, not a panic.
	tr.StartSpan("late").Finish()
	require.Equal(t, int64(n+1), tracing.Stats().Export.Exported+tracing.Stats().Export.Dropped()+tracing.Stats().Export.Unconfirmed)
	require.NoError(t, shutdown(t, tracing, time.Second), "a second Shutdown returns the first result")
}

func TestDisabledStillPropagates(t *testing.T) {
	rcv := newReceiver(t)
	tracing := Start(context.Background(), isolated(map[string]string{"OTEL_SDK_DISABLED": "true"},
		config.WithEndpoint(rcv.GRPCEndpoint()))...)
	tr := tracing.Tracer()
	in := http.Header{}
	in.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	in.Set("X-Flow-ID", "incident-flow")
	parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(in))
	require.NoError(t, err)
	span := tr.StartSpan("handler", opentracing.ChildOf(parent))
	out := http.Header{}
	require.NoError(t, tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
	span.Finish()
	require.Contains(t, out.Get("traceparent"), "4bf92f3577b34da6a3ce929d0e0e4736")
	require.Equal(t, "incident-flow", out.Get("X-Flow-ID"))
	require.Equal(t, "incident-flow", span.BaggageItem("flow_id"))
	require.NoError(t, shutdown(t, tracing, time.Second))
	require.Zero(t, rcv.SpanCount())
}

// TestSamplerMapping: the OTEL_TRACES_SAMPLER mapping lives here (config
// passes names and arguments through); unknown names and bad arguments give
// one warning each, naming where they came from, and a safe sampler.
func TestSamplerMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sampler, arg, source string
		rate                 float64
		want                 string
		warning              []string
	}{
		{"always_on", "", "OTEL_TRACES_SAMPLER", 0, "always_on", nil},
		{"always_off", "0.5", "OTEL_TRACES_SAMPLER", 0, "always_off", nil},
		{"traceidratio", "0.25", "OTEL_TRACES_SAMPLER", 0, "traceidratio{0.25}", nil},
		{"traceidratio", "", "OTEL_TRACES_SAMPLER", 0, "traceidratio{1}", nil},
		{"parentbased_always_on", "", "default", 0, "parentbased{always_on}", nil},
		{"parentbased_always_off", "", "OTEL_TRACES_SAMPLER", 0, "parentbased{always_off}", nil},
		{"parentbased_traceidratio", "0.5", "WithSampler", 0, "parentbased{traceidratio{0.5}}", nil},
		{"parentbased_always_on", "", "default", 10, "parentbased{ratelimited{10/s per operation, always_on}}", nil},
		{"traceidratio", "abc", "OTEL_TRACES_SAMPLER", 0, "traceidratio{1}",
			[]string{`OTEL_TRACES_SAMPLER_ARG="abc" (sampler traceidratio): not a number; using traceidratio{1}`}},
		{"traceidratio", "7", "OTEL_TRACES_SAMPLER", 0, "traceidratio{1}", []string{"OTEL_TRACES_SAMPLER_ARG", "out of range"}},
		{"parentbased_traceidratio", "NaN", "OTEL_TRACES_SAMPLER", 0, "parentbased{traceidratio{1}}", []string{"OTEL_TRACES_SAMPLER_ARG", "out of range"}},
		{"traceidratio", "7", "WithSampler", 0, "traceidratio{1}", []string{"WithSampler arg", "out of range"}},
		{"sometimes", "", "OTEL_TRACES_SAMPLER", 0, "parentbased{always_on}",
			[]string{`OTEL_TRACES_SAMPLER="sometimes": unknown sampler`, "using parentbased_always_on"}},
		{"nope", "1", "WithSampler", 0, "parentbased{always_on}", []string{`WithSampler="nope"`}},
	} {
		got, warnings := samplerFor(config.Config{Sampler: tc.sampler, SamplerArg: tc.arg, SamplerSource: tc.source, OperationRateLimit: tc.rate, MaxOperations: 10})
		require.Equal(t, tc.want, got.Description(), "%+v", tc)
		if tc.warning == nil {
			require.Empty(t, warnings, "%+v", tc)
			continue
		}
		require.Len(t, warnings, 1, "%+v", tc)
		for _, w := range tc.warning {
			require.Contains(t, warnings[0], w)
		}
	}
}

func TestStartEnforcesSemanticConventions(t *testing.T) {
	rcv := newReceiver(t)
	tracing := Start(context.Background(), isolated(map[string]string{"FLOWTRACE_SEMCONV_MODE": "strict"},
		config.WithEndpoint(rcv.GRPCEndpoint()))...)
	span := tracing.Tracer().StartSpan("op")
	span.SetTag("http.status_code", "200") // coerced to an int
	span.SetTag("http.staus_code", 200)    // unknown key: dropped
	span.Finish()
	require.NoError(t, shutdown(t, tracing, 5*time.Second))
	spans := rcv.Spans()
	require.Len(t, spans, 1)
	require.Equal(t, int64(200), spans[0].Attributes["http.status_code"])
	_, typo := spans[0].Attributes["http.staus_code"]
	require.False(t, typo)
	require.Equal(t, int64(2), spans[0].Attributes[tracer.ViolationsKey])
}

func TestCloseIsBoundedShutdown(t *testing.T) {
	bh, err := tracetest.NewBlackhole()
	require.NoError(t, err)
	defer bh.Close()
	tracing := Start(context.Background(), isolated(map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "60000"},
		config.WithEndpoint(bh.Endpoint()))...)
	tracing.Tracer().StartSpan("op").Finish()
	start := time.Now()
	require.Error(t, tracing.Close(), "the span could not be delivered")
	require.Less(t, time.Since(start), CloseTimeout+time.Second)
	require.Equal(t, tracing.Close(), tracing.Shutdown(context.Background()), "later calls return the first result")
}
