package propagation_test

import (
	"context"
	"net/http"
	"testing"

	otelbaggage "go.opentelemetry.io/otel/baggage"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/propagation"
)

// BenchmarkInjectExtract sends a sampled context with one baggage item and
// a flow id through http.Header, with the default composite and, for
// comparison, OpenTelemetry's TraceContext+Baggage composite (which carries
// the flow id as a second baggage member).
func BenchmarkInjectExtract(b *testing.B) {
	b.Run("flowtrace", func(b *testing.B) {
		p := propagation.Default()
		s := propagation.State{
			SpanContext: propagation.SpanContext{TraceID: interopTrace, SpanID: interopSpan, Flags: propagation.FlagSampled},
			Baggage:     propagation.NewBaggage(propagation.Member{Key: "userId", Value: "alice"}, propagation.Member{Key: "flow_id", Value: "checkout-42"}),
		}
		b.ReportAllocs()
		for b.Loop() {
			h := make(http.Header, 4)
			p.Inject(s, propagation.HeaderCarrier(h))
			_ = p.Extract(propagation.HeaderCarrier(h), propagation.State{})
		}
	})
	b.Run("otel", func(b *testing.B) {
		p := otelprop.NewCompositeTextMapPropagator(otelprop.TraceContext{}, otelprop.Baggage{})
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(interopTrace), SpanID: trace.SpanID(interopSpan), TraceFlags: trace.FlagsSampled})
		m1, _ := otelbaggage.NewMemberRaw("userId", "alice")
		m2, _ := otelbaggage.NewMemberRaw("flow_id", "checkout-42")
		bag, _ := otelbaggage.New(m1, m2)
		ctx := otelbaggage.ContextWithBaggage(trace.ContextWithSpanContext(context.Background(), sc), bag)
		b.ReportAllocs()
		for b.Loop() {
			h := make(http.Header, 4)
			p.Inject(ctx, otelprop.HeaderCarrier(h))
			_ = p.Extract(context.Background(), otelprop.HeaderCarrier(h))
		}
	})
}

// BenchmarkExtract measures Extract alone from a received request's headers.
func BenchmarkExtract(b *testing.B) {
	h := http.Header{
		"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		"Baggage":     {"userId=alice,flow_id=checkout-42"},
		"X-Flow-Id":   {"checkout-42"},
	}
	b.Run("flowtrace", func(b *testing.B) {
		p := propagation.Default()
		b.ReportAllocs()
		for b.Loop() {
			_ = p.Extract(propagation.HeaderCarrier(h), propagation.State{})
		}
	})
	b.Run("otel", func(b *testing.B) {
		p := otelprop.NewCompositeTextMapPropagator(otelprop.TraceContext{}, otelprop.Baggage{})
		b.ReportAllocs()
		for b.Loop() {
			_ = p.Extract(context.Background(), otelprop.HeaderCarrier(h))
		}
	})
}
