package oteltracer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// One request over real HTTP uses both APIs: a tracehttp server span, an
// OpenTelemetry span under it, an OpenTracing span under that, a tracehttp
// client call and an OpenTelemetry client call (propagated by the
// OpenTelemetry propagator, as otelhttp does) to a second tracehttp
// server. Every span is in one trace, under the right parent, with the
// caller's flow id.
func TestMixedRequestOverHTTP(t *testing.T) {
	tr, p, rec := setup(t)
	lib := p.Tracer("github.com/acme/lib", trace.WithInstrumentationVersion("0.9.0"))
	prop := p.Propagator()

	backend := httptest.NewServer(tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, s := lib.Start(r.Context(), "backend-work")
		s.End()
		_, _ = io.WriteString(w, "ok")
	}), tracehttp.WithTracer(tr)))
	defer backend.Close()
	client := &http.Client{Transport: tracehttp.NewTransport(nil, tracehttp.WithTracer(tr))}
	defer client.CloseIdleConnections()
	plain := &http.Client{}
	defer plain.CloseIdleConnections()

	get := func(ctx context.Context, c *http.Client, inject bool) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, backend.URL+"/item", nil)
		require.NoError(t, err)
		if inject {
			prop.Inject(ctx, otelprop.HeaderCarrier(req.Header))
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
	}
	front := httptest.NewServer(tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, s := lib.Start(r.Context(), "otel-handler-work")
		defer s.End()
		ot, octx := opentracing.StartSpanFromContextWithTracer(ctx, tr, "ot-inner")
		get(octx, client, false) // tracehttp client span, child of ot-inner
		ot.Finish()
		cctx, cs := lib.Start(ctx, "otel-client", trace.WithSpanKind(trace.SpanKindClient))
		get(cctx, plain, true) // what otelhttp does: OpenTelemetry span + propagator
		cs.End()
	}), tracehttp.WithTracer(tr)))
	defer front.Close()

	req, err := http.NewRequest(http.MethodGet, front.URL+"/checkout", nil)
	require.NoError(t, err)
	req.Header.Set("X-Flow-ID", "flow-mixed-1")
	resp, err := plain.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "flow-mixed-1", resp.Header.Get("X-Flow-ID"))

	spans, err := rec.WaitForSpans(t.Context(), 9)
	require.NoError(t, err)
	require.Len(t, spans, 9, "front server, otel work, ot inner, client, backend server+work, otel client, backend server+work")
	byID := map[string]tracetest.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	parentName := func(s tracetest.Span) string { return byID[s.ParentSpanID].Name }
	var roots int
	for _, s := range spans {
		require.Equal(t, spans[0].TraceID, s.TraceID, "one trace: %s", s.Name)
		require.Equal(t, "flow-mixed-1", s.Attributes["flow_id"], "flow id on %s", s.Name)
		if s.ParentSpanID == "" {
			roots++
			require.Equal(t, tracer.KindServer, s.Kind)
			continue
		}
		require.Contains(t, byID, s.ParentSpanID, "parent of %s recorded", s.Name)
	}
	require.Equal(t, 1, roots)
	otelWork := find(t, rec, "otel-handler-work")
	require.Equal(t, tracer.KindServer, byID[otelWork.ParentSpanID].Kind)
	require.Equal(t, "otel-handler-work", parentName(find(t, rec, "ot-inner")))
	require.Equal(t, "otel-handler-work", parentName(find(t, rec, "otel-client")))
	require.Equal(t, "github.com/acme/lib", otelWork.ScopeName)
	var backendParents []string
	for _, s := range spans {
		if s.Kind == tracer.KindServer && s.ParentSpanID != "" {
			backendParents = append(backendParents, parentName(s))
		}
		if s.Name == "backend-work" {
			require.Equal(t, tracer.KindServer, byID[s.ParentSpanID].Kind)
		}
	}
	require.Len(t, backendParents, 2)
	require.Contains(t, backendParents, "otel-client")
	require.Equal(t, uint64(9), tr.Stats().Finished)
}
