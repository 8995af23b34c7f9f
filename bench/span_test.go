package bench

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/log"
)

// spanWorkload: a root span, five tags, one event with two fields, a child
// span, both finished.
func spanWorkload(tr opentracing.Tracer) {
	root := tr.StartSpan("GET /orders/{id}")
	root.SetTag("component", "bench")
	root.SetTag("attempt", 3)
	root.SetTag("cached", true)
	ext.HTTPMethod.Set(root, "GET")
	ext.HTTPStatusCode.Set(root, 200)
	root.LogFields(log.String("event", "cache miss"), log.String("key", "order:42"), log.Int("size", 512))
	child := tr.StartSpan("SELECT orders", opentracing.ChildOf(root.Context()))
	child.Finish()
	root.Finish()
}

func BenchmarkSpan(b *testing.B) {
	for _, a := range openTracingAnchors {
		b.Run(a.name, func(b *testing.B) {
			tr, closeTracer := a.new(b)
			defer closeTracer()
			b.ReportAllocs()
			for b.Loop() {
				spanWorkload(tr)
			}
		})
	}
	b.Run("otel-sdk-discard", func(b *testing.B) {
		tp := otelProvider(discardSpanExporter{})
		defer shutdown(b, tp.Shutdown)
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		for b.Loop() {
			otelSpanWorkload(tr)
		}
	})
	b.Run("otel-sdk-otlp", func(b *testing.B) {
		tp := otelProvider(otelOTLPExporter(b))
		defer shutdown(b, tp.Shutdown)
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		for b.Loop() {
			otelSpanWorkload(tr)
		}
	})
}
