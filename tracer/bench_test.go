package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
)

// spanWorkload is the shape every tracer is measured on: a root span with
// five tags and a child, both finished.
func spanWorkload(tr opentracing.Tracer, child bool) {
	root := tr.StartSpan("GET /orders/{id}")
	root.SetTag("component", "bench")
	root.SetTag("attempt", 3)
	root.SetTag("cached", true)
	ext.HTTPMethod.Set(root, "GET")
	ext.HTTPStatusCode.Set(root, 200)
	if child {
		c := tr.StartSpan("SELECT orders", opentracing.ChildOf(root.Context()))
		c.Finish()
	}
	root.Finish()
}

type discard struct{ noopProcessor }

func BenchmarkSpan(b *testing.B) {
	tracers := []struct {
		name string
		tr   opentracing.Tracer
	}{
		{"noop", opentracing.NoopTracer{}},
		{"flowtrace-sampled", New(WithProcessor(discard{}))},
		{"flowtrace-unsampled", New(WithSampler(AlwaysOff()))},
	}
	for _, shape := range []struct {
		name  string
		child bool
	}{{"root", false}, {"root+child", true}} {
		for _, tc := range tracers {
			b.Run(shape.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					spanWorkload(tc.tr, shape.child)
				}
			})
		}
	}
}

func BenchmarkSpanParallel(b *testing.B) {
	tr := New(WithProcessor(discard{}))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			spanWorkload(tr, true)
		}
	})
}
