package tracehttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracer"
)

// The request tags go to a flowtrace span in one SetAttributes call and to
// any other tracer's span one SetTag each: both get the same tags, and a
// tag policy judges the batched ones as it judges SetTag's.
func TestServerRequestTagsBatched(t *testing.T) {
	t.Parallel()
	serve := func(h http.Handler) {
		req := httptest.NewRequest(http.MethodPost, "/users?q=1", nil)
		req.RemoteAddr, req.ContentLength = "10.1.2.3:4567", 5
		req.Header.Set("User-Agent", "probe/1.0")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	tr, rec := newTestTracer()
	serve(tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr)))
	mt := newMockTracer()
	serve(tracehttp.NewHandler(newMux(), tracehttp.WithTracer(mt)))

	own := map[string]bool{"flow_id": true, tracer.SamplerTypeKey: true, tracer.SamplerParamKey: true, tracer.SamplingProbabilityKey: true}
	got := map[string]any{}
	for _, a := range rec.wait(t, 1)[0].Attributes {
		if !own[a.Key] {
			got[a.Key] = a.Value
		}
	}
	want := mt.FinishedSpans()[0].Tags()
	delete(want, "span.kind")
	delete(want, "flow_id")
	require.Equal(t, map[string]any(want), got)
	// component, method, url, route, scheme, host, user agent, length,
	// peer address and IP, status.
	require.Len(t, got, 11)

	counted := &countingPolicy{}
	tr, rec = newTestTracer(tracer.WithTagPolicy(counted))
	serve(tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr)))
	rec.wait(t, 1)
	got["span.kind"] = nil // a start option, judged too
	for k := range got {
		require.Contains(t, counted.keys, k)
	}
	require.Len(t, counted.keys, len(got))
}

type countingPolicy struct{ keys []string }

func (p *countingPolicy) CheckTag(key string, _ any) (any, tracer.TagVerdict) {
	p.keys = append(p.keys, key)
	return nil, tracer.TagOK
}
func (p *countingPolicy) CheckFinish(string, tracer.SpanKind, []tracer.Attribute) int {
	return 0
}
