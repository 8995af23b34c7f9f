package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/harness"
)

type probe struct{}

func (probe) SameTrace(first, second opentracing.Span) bool {
	a, ok1 := first.Context().(*SpanContext)
	b, ok2 := second.Context().(*SpanContext)
	return ok1 && ok2 && a.TraceID() == b.TraceID()
}

func (probe) SameSpanContext(span opentracing.Span, sc opentracing.SpanContext) bool {
	a, ok1 := span.Context().(*SpanContext)
	b, ok2 := sc.(*SpanContext)
	return ok1 && ok2 && a.TraceID() == b.TraceID() && a.SpanID() == b.SpanID()
}

func TestAPIChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"sampled", nil},
		{"unsampled", []Option{WithSampler(AlwaysOff())}},
		{"non-recording", []Option{NonRecording()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			harness.RunAPIChecks(t, func() (opentracing.Tracer, func()) {
				return New(tc.opts...), func() {}
			}, harness.CheckEverything(), harness.UseProbe(probe{}))
		})
	}
}
