package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/tracer"
)

// BenchmarkInjectExtract: inject a sampled context with one baggage item
// (and, for flowtrace, the flow id) into http.Header, then extract it.
func BenchmarkInjectExtract(b *testing.B) {
	run := func(b *testing.B, tr opentracing.Tracer, flowID bool) {
		span := tr.StartSpan("op")
		span.SetBaggageItem("tenant", "acme")
		if flowID {
			span.SetBaggageItem("flow_id", "4f1c2a9e-1d2b-4c3d-9e8f-7a6b5c4d3e2f")
		}
		sc := span.Context()
		b.ReportAllocs()
		for b.Loop() {
			h := http.Header{}
			if err := tr.Inject(sc, opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(h)); err != nil {
				b.Fatal(err)
			}
			if _, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(h)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("jaeger", func(b *testing.B) {
		tr, closeTracer := jaegerNull(b)
		defer closeTracer()
		run(b, tr, false)
	})
	b.Run("flowtrace", func(b *testing.B) {
		run(b, tracer.New(), true)
	})
	b.Run("otel-w3c", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider()
		defer shutdown(b, tp.Shutdown)
		prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
		member, _ := baggage.NewMember("tenant", "acme")
		bag, _ := baggage.New(member)
		ctx, span := tp.Tracer("bench").Start(baggage.ContextWithBaggage(context.Background(), bag), "op")
		defer span.End()
		_ = oteltrace.SpanContextFromContext(ctx)
		b.ReportAllocs()
		for b.Loop() {
			h := http.Header{}
			prop.Inject(ctx, propagation.HeaderCarrier(h))
			_ = prop.Extract(context.Background(), propagation.HeaderCarrier(h))
		}
	})
}
