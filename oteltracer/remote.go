package oteltracer

import (
	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"
)

// remoteSpan is the OpenTracing view of a remote span context, the one a
// propagator's Extract makes current: opentracing.SpanFromContext returns
// it, so OpenTracing code finds the caller's span as OpenTelemetry code
// does (trace.SpanFromContext returns a non-recording span there too), and
// opentracing.StartSpanFromContext starts the caller's child. The span is
// the caller's, not ours: it records nothing and its baggage is the one
// received. It is a conversion of the span view, so it costs no
// allocation.
type remoteSpan span

var _ opentracing.Span = (*remoteSpan)(nil)

func (s *remoteSpan) Context() opentracing.SpanContext               { return s.remote }
func (s *remoteSpan) Tracer() opentracing.Tracer                     { return s.tracer.p.t }
func (s *remoteSpan) Finish()                                        {}
func (s *remoteSpan) FinishWithOptions(opentracing.FinishOptions)    {}
func (s *remoteSpan) SetOperationName(string) opentracing.Span       { return s }
func (s *remoteSpan) SetTag(string, any) opentracing.Span            { return s }
func (s *remoteSpan) LogFields(...log.Field)                         {}
func (s *remoteSpan) LogKV(...any)                                   {}
func (s *remoteSpan) SetBaggageItem(string, string) opentracing.Span { return s }
func (s *remoteSpan) LogEvent(string)                                {}
func (s *remoteSpan) LogEventWithPayload(string, any)                {}
func (s *remoteSpan) Log(opentracing.LogData)                        {}
func (s *remoteSpan) BaggageItem(key string) string {
	v, _ := s.remote.Baggage().Get(key)
	return v
}
