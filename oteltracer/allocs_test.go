//go:build !race

package oteltracer_test

import (
	"context"
	"sync"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/flowtrace/flowtrace/oteltracer"
	"github.com/flowtrace/flowtrace/tracer"
)

func otelWorkload(tr trace.Tracer, attrs bool) {
	ctx, root := tr.Start(context.Background(), "GET /orders/{id}")
	if attrs {
		root.SetAttributes(attribute.String("http.request.method", "GET"))
	}
	_, child := tr.Start(ctx, "SELECT orders")
	if attrs {
		child.SetAttributes(attribute.String("db.system", "postgresql"))
	}
	child.End()
	root.End()
}

// An unsampled OpenTelemetry span costs no more than an unsampled
// OpenTracing span started the usual way (StartSpanFromContext), on a
// tracer that has no OpenTelemetry provider at all; its attributes cost no
// more than on OpenTelemetry's own no-op tracer (the variadic slice of
// SetAttributes, which the caller allocates for any implementation behind
// the interface). The race detector allocates, hence the tag.
func TestUnsampledAllocations(t *testing.T) {
	otOnly := tracer.New(tracer.WithSampler(tracer.AlwaysOff()))
	ot := testing.AllocsPerRun(200, func() {
		root, ctx := opentracing.StartSpanFromContextWithTracer(context.Background(), otOnly, "GET /orders/{id}")
		child, _ := opentracing.StartSpanFromContextWithTracer(ctx, otOnly, "SELECT orders")
		child.Finish()
		root.Finish()
	})
	otelTr := oteltracer.NewProvider(tracer.New(tracer.WithSampler(tracer.AlwaysOff()))).Tracer("bench")
	otel := testing.AllocsPerRun(200, func() { otelWorkload(otelTr, false) })
	otelAttrs := testing.AllocsPerRun(200, func() { otelWorkload(otelTr, true) })
	noopTr := noop.NewTracerProvider().Tracer("bench")
	noopPlain := testing.AllocsPerRun(200, func() { otelWorkload(noopTr, false) })
	noopAttrs := testing.AllocsPerRun(200, func() { otelWorkload(noopTr, true) })
	// Started the plain OpenTracing way, an unsampled root and child are
	// one allocation; an OpenTelemetry span is one, context included.
	otStart := testing.AllocsPerRun(200, func() {
		root := otOnly.StartSpan("GET /orders/{id}")
		otOnly.StartSpan("SELECT orders", opentracing.ChildOf(root.Context())).Finish()
		root.Finish()
	})
	t.Logf("allocs per unsampled root+child: OpenTracing %.0f (StartSpan %.0f), OpenTelemetry %.0f (%.0f with attributes; no-op tracer %.0f, %.0f)",
		ot, otStart, otel, otelAttrs, noopPlain, noopAttrs)
	// Unsampled spans of both APIs are cut from blocks of 8: an
	// OpenTelemetry span, its context included, costs no more than
	// OpenTracing's StartSpan, which makes no context (AllocsPerRun
	// rounds the 1/8 down).
	require.LessOrEqual(t, otel, otStart)
	require.Less(t, otel, ot)
	require.LessOrEqual(t, otelAttrs-otel, noopAttrs-noopPlain)
}

// TestUnsampledBlocksConcurrent: spans cut from a shared block by
// concurrent goroutines are each their own (the race detector watches
// the writes), and each keeps the context it was started with.
func TestUnsampledBlocksConcurrent(t *testing.T) {
	tr := oteltracer.NewProvider(tracer.New(tracer.WithSampler(tracer.AlwaysOff()))).Tracer("blocks")
	type key struct{}
	const goroutines, each = 4, 100
	spans := make(chan trace.Span, goroutines*each)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ctx, s := tr.Start(context.WithValue(context.Background(), key{}, g*each+i), "op")
				assert.Equal(t, g*each+i, ctx.Value(key{}))
				assert.True(t, s == trace.SpanFromContext(ctx), "the context holds its own span")
				s.End()
				spans <- s
			}
		}()
	}
	wg.Wait()
	close(spans)
	seen := map[trace.Span]bool{}
	ids := map[trace.TraceID]bool{}
	for s := range spans {
		require.False(t, seen[s], "a span handed out twice")
		seen[s] = true
		require.False(t, s.IsRecording())
		ids[s.SpanContext().TraceID()] = true
	}
	require.Len(t, ids, goroutines*each, "every root its own trace")
}
