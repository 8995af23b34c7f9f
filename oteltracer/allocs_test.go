//go:build !race

package oteltracer_test

import (
	"context"
	"testing"

	"github.com/opentracing/opentracing-go"
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
	// One allocation per span, its context included. (OpenTracing's
	// StartSpan, which makes no context, now cuts unsampled roots from
	// blocks of 8 and gives the first child its parent's context: 1 for
	// the two, tracer's own guard.)
	require.LessOrEqual(t, otel, 2.0)
	require.LessOrEqual(t, otel, otStart+1)
	require.Less(t, otel, ot)
	require.LessOrEqual(t, otelAttrs-otel, noopAttrs-noopPlain)
}
