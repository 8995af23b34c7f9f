package tracer

import (
	"context"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"

	"github.com/flowtrace/flowtrace/propagation"
)

// This file holds what the OpenTelemetry API (package oteltracer) needs
// from the tracer beyond OpenTracing's methods: the OpenTelemetry span is
// this package's Span, so these are the few operations OpenTracing has no
// words for. They keep the limits and the finished-span rule of the rest.

// SetStatus sets the span's status as OpenTelemetry's SetStatus does: Ok
// is final, Unset changes nothing, and the message is kept only with
// Error (bounded by Limits.AttributeValueLength).
func (s *Span) SetStatus(code StatusCode, msg string) {
	if code == StatusError {
		msg = truncateString(msg, s.tracer.cfg.limits.AttributeValueLength)
	} else {
		msg = ""
	}
	s.mu.Lock()
	if !s.finished && code != StatusUnset && s.data.Status != StatusOK {
		s.data.Status, s.data.StatusMessage = code, msg
	}
	s.mu.Unlock()
}

// LogFieldsAt is LogFields with the event's time given (zero: now).
func (s *Span) LogFieldsAt(at time.Time, fields ...log.Field) {
	enc := s.encodeEvent(at, fields)
	s.mu.Lock()
	if !s.finished {
		s.addEventLocked(enc)
	}
	s.mu.Unlock()
}

// AddLink links the span to sc after it started, within Limits.LinkCount.
func (s *Span) AddLink(sc propagation.SpanContext) {
	if !sc.IsValid() {
		return
	}
	s.mu.Lock()
	if !s.finished {
		s.addLink(sc, "link")
	}
	s.mu.Unlock()
}

// SetScope records the instrumentation scope of the OpenTelemetry Tracer
// that started the span (exported as its OTLP scope, not as attributes).
// Name and version are bounded by Limits.NameLength.
func (s *Span) SetScope(name, version string) {
	lim := s.tracer.cfg.limits.NameLength
	sc := Scope{Name: truncateString(name, lim), Version: truncateString(version, lim)}
	s.mu.Lock()
	if !s.finished {
		s.data.Scope = sc
	}
	s.mu.Unlock()
}

// cloneSlice copies an array tag value (OpenTelemetry's array attribute
// types), so that the caller's slice can change afterwards; strings are
// bounded by Limits.AttributeValueLength.
func (s *Span) cloneSlice(v any) any {
	switch v := v.(type) {
	case []string:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = truncateString(e, s.tracer.cfg.limits.AttributeValueLength)
		}
		return out
	case []bool:
		return append([]bool{}, v...)
	case []int64:
		return append([]int64{}, v...)
	case []float64:
		return append([]float64{}, v...)
	}
	return v
}

// IsFinished reports whether Finish was called.
func (s *Span) IsFinished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished
}

// RemoteContext makes a parent context from a propagated state that did
// not come through Extract (an OpenTelemetry SpanContext built by other
// code): its routed baggage is validated as Extract validates it.
func (t *Tracer) RemoteContext(st propagation.State) *SpanContext {
	if !st.SpanContext.IsValid() {
		st.SpanContext = propagation.SpanContext{}
	}
	return &SpanContext{wire: st.SpanContext, baggage: t.validBaggage(st.Baggage), remote: st.SpanContext.IsValid()}
}

// Propagator returns the formats Inject and Extract use for text carriers.
func (t *Tracer) Propagator() propagation.Propagator { return t.cfg.propagator }

// ContextHook is called by opentracing.ContextWithSpan for the tracer's
// spans; see SetContextHook.
type ContextHook func(ctx context.Context, span opentracing.Span) context.Context

// SetContextHook installs h as the tracer's ContextWithSpanHook: package
// oteltracer uses it so that a span put in a context by the OpenTracing
// API is also the OpenTelemetry API's current span. Nil removes it.
func (t *Tracer) SetContextHook(h ContextHook) {
	if h == nil {
		t.ctxHook.Store(nil)
		return
	}
	t.ctxHook.Store(&h)
}

// ContextWithSpanHook implements opentracing.TracerContextWithSpanExtension.
func (t *Tracer) ContextWithSpanHook(ctx context.Context, span opentracing.Span) context.Context {
	if h := t.ctxHook.Load(); h != nil {
		return (*h)(ctx, span)
	}
	return ctx
}

var _ opentracing.TracerContextWithSpanExtension = (*Tracer)(nil)
