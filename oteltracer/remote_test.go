package oteltracer_test

import (
	"context"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	otelprop "go.opentelemetry.io/otel/propagation"

	"github.com/flowtrace/flowtrace/tracer"
)

// After an OpenTelemetry propagator's Extract (what otelhttp's handler
// does), OpenTracing code sees the caller's span as the current span, and
// a span it starts from the context is the caller's child: one trace.
func TestExtractThenOpenTracing(t *testing.T) {
	tr, p, rec := setup(t)
	ctx := p.Propagator().Extract(context.Background(), otelprop.MapCarrier{
		"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"baggage":     "flow_id=req-9",
	})

	remote := opentracing.SpanFromContext(ctx)
	require.NotNil(t, remote, "the remote parent is the OpenTracing API's current span")
	sc, ok := remote.Context().(*tracer.SpanContext)
	require.True(t, ok)
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", sc.TraceID().String())
	require.Equal(t, "b7ad6b7169203331", sc.SpanID().String())
	require.Equal(t, "req-9", remote.BaggageItem("flow_id"))
	require.Same(t, tr, remote.Tracer())

	// The caller's span is not ours: using it records nothing.
	remote.SetTag("k", "v").SetOperationName("x").SetBaggageItem("flow_id", "other")
	remote.LogKV("event", "e")
	remote.Finish()
	require.Equal(t, "req-9", remote.BaggageItem("flow_id"))
	require.Zero(t, rec.Len())

	child, cctx := opentracing.StartSpanFromContextWithTracer(ctx, tr, "ot-child")
	grand, _ := opentracing.StartSpanFromContextWithTracer(cctx, tr, "ot-grandchild")
	grand.Finish()
	child.Finish()
	c := find(t, rec, "ot-child")
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", c.TraceID)
	require.Equal(t, "b7ad6b7169203331", c.ParentSpanID)
	require.Equal(t, "req-9", c.Attributes["flow_id"])
	require.Equal(t, c.SpanID, find(t, rec, "ot-grandchild").ParentSpanID)
	require.Equal(t, tracer.Stats{Started: 2, Sampled: 2, Finished: 2}, tr.Stats(), "the remote view is no span of ours")

	// Put back into a context by OpenTracing, it stays the remote parent.
	again := opentracing.ContextWithSpan(context.Background(), remote)
	_, s := p.Tracer("lib").Start(again, "otel-child")
	require.True(t, s.SpanContext().IsValid())
	s.End()
	require.Equal(t, "b7ad6b7169203331", find(t, rec, "otel-child").ParentSpanID)
}
