package remotesampling

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

func TestRootSpansCarrySamplerTags(t *testing.T) {
	srv := newStrategyServer(t, probabilistic("1"))
	s := newSampler(t, srv.URL, nil)
	waitVersion(t, s, 1)
	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithSampler(tracer.ParentBased(s)), tracer.WithProcessor(rec))
	root := tr.StartSpan("GET /a")
	child := tr.StartSpan("SELECT", opentracing.ChildOf(root.Context()))
	child.Finish()
	root.Finish()
	r, ok := rec.FindSpan("GET /a")
	require.True(t, ok)
	require.Equal(t, "probabilistic", r.Attributes[tracer.SamplerTypeKey])
	require.Equal(t, 1.0, r.Attributes[tracer.SamplerParamKey])
	require.Equal(t, 1.0, r.Attributes[tracer.SamplingProbabilityKey])
	require.Contains(t, r.TraceState, "th:0")
	c, ok := rec.FindSpan("SELECT")
	require.True(t, ok)
	require.NotContains(t, c.Attributes, tracer.SamplerTypeKey, "only the span that decided carries the rule")
}

// TestCriticalOperationsAboveTheStrategy: during a peak the strategy turns
// sampling down to 0; the edge's critical operation is still forced in (at
// most WithCriticalSampling a second), weighted 1 with no th, while other
// routes follow the strategy.
func TestCriticalOperationsAboveTheStrategy(t *testing.T) {
	srv := newStrategyServer(t, `{"strategyType":0,"operationSampling":{"defaultSamplingProbability":0,"perOperationStrategies":[{"operation":"GET /browse","probabilisticSampling":{"samplingRate":0}}]}}`)
	s := newSampler(t, srv.URL, nil)
	waitVersion(t, s, 1)
	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithSampler(tracer.ParentBased(s)), tracer.WithProcessor(rec))
	h := tracehttp.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		tracehttp.WithTracer(tr), tracehttp.WithPublicEndpoint(),
		tracehttp.WithRoute(func(r *http.Request) string { return r.URL.Path }),
		tracehttp.WithCriticalOperation(func(r *http.Request) string {
			if strings.HasPrefix(r.URL.Path, "/checkout") {
				return "checkout"
			}
			return ""
		}),
		tracehttp.WithCriticalSampling(5))
	edge := httptest.NewServer(h)
	t.Cleanup(edge.Close)
	for _, path := range []string{"/browse", "/checkout"} {
		for range 100 {
			res, err := http.Post(edge.URL+path, "text/plain", nil)
			require.NoError(t, err)
			res.Body.Close()
		}
	}
	checkout, browse := 0, 0
	for _, sp := range rec.Spans() {
		if strings.Contains(sp.Name, "/browse") {
			browse++
			continue
		}
		checkout++
		require.Equal(t, 1.0, sp.Attributes[tracer.SamplingProbabilityKey], "a forced trace stands for itself")
		require.NotContains(t, sp.TraceState, "th:", "a forced decision publishes no th")
		require.NotContains(t, sp.Attributes, tracer.SamplerTypeKey, "the strategy did not decide it")
	}
	require.Zero(t, browse, "the strategy turned sampling off")
	// The cap holds one second's worth (5), refilling at 5/s as the
	// requests go: 100 would take 19 s.
	require.GreaterOrEqual(t, checkout, 5)
	require.Less(t, checkout, 100, "over the cap, the strategy (0) decides")
}

// TestOperationRateLimitOnTop: FLOWTRACE_SAMPLER_OPERATION_RATE stays a
// ceiling above whatever the strategy says: RateLimited(rate, …, remote)
// keeps the strategy's rule and multiplies its probability by the share
// the cap lets through, and erases th.
func TestOperationRateLimitOnTop(t *testing.T) {
	srv := newStrategyServer(t, probabilistic("1"))
	s := newSampler(t, srv.URL, nil)
	waitVersion(t, s, 1)
	capped := tracer.RateLimited(10, 100, s)
	share, decisions := keptShare(capped, "GET /a", 1000)
	require.InDelta(t, 0.01, share, 0.002)
	for _, d := range decisions {
		require.Equal(t, tracer.Threshold{}, d.Threshold)
		require.Equal(t, "probabilistic", d.Rule.Type())
	}
}
