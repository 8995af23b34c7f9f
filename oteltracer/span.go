package oteltracer

import (
	"fmt"
	"runtime/debug"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// span is the OpenTelemetry view of one of the tracer's spans (ot), or of
// a remote span context (remote) that a propagator extracted. It holds no
// state of its own: every view of a span records into the same span.
type span struct {
	// embedded.Span through a pointer, always nil: its method is
	// OpenTelemetry's marker that is never called, and a pointer is a
	// word where the interface is two (sampledSpan is 760 bytes of its
	// 768-byte size class, not all 768).
	*embeddedSpan

	ot     opentracing.Span
	remote *tracer.SpanContext
	tracer *Tracer
}

var _ trace.Span = (*span)(nil)

type embeddedSpan struct{ embedded.Span }

// flowtraceContext is the span's current flowtrace context, or nil.
func (s *span) flowtraceContext() *tracer.SpanContext {
	if s.ot == nil {
		return s.remote
	}
	sc, _ := s.ot.Context().(*tracer.SpanContext)
	return sc
}

func (s *span) recording() *tracer.Span {
	rs, _ := s.ot.(*tracer.Span)
	return rs
}

// End implements trace.Span.
func (s *span) End(opts ...trace.SpanEndOption) {
	if s.ot == nil {
		return
	}
	if len(opts) == 0 {
		s.ot.Finish()
		return
	}
	cfg := trace.NewSpanEndConfig(opts...)
	s.ot.FinishWithOptions(opentracing.FinishOptions{FinishTime: cfg.Timestamp()})
}

// AddEvent implements trace.Span.
func (s *span) AddEvent(name string, opts ...trace.EventOption) {
	rs := s.recording()
	if rs == nil {
		return
	}
	cfg := trace.NewEventConfig(opts...)
	rs.LogFieldsAt(cfg.Timestamp(), eventFields(name, cfg.Attributes())...)
}

// AddLink implements trace.Span.
func (s *span) AddLink(l trace.Link) {
	if rs := s.recording(); rs != nil {
		rs.AddLink(wireOf(l.SpanContext))
	}
}

// IsRecording implements trace.Span: true until End for sampled spans.
func (s *span) IsRecording() bool {
	rs := s.recording()
	return rs != nil && !rs.IsFinished()
}

// RecordError implements trace.Span: an "exception" event; the status is
// left alone, as OpenTelemetry does.
func (s *span) RecordError(err error, opts ...trace.EventOption) {
	rs := s.recording()
	if rs == nil || err == nil {
		return
	}
	cfg := trace.NewEventConfig(opts...)
	fields := eventFields("exception", cfg.Attributes())
	// log.Object hands err to the tracer, which calls Error with a panic
	// guard.
	fields = append(fields, log.String("exception.type", fmt.Sprintf("%T", err)), log.Object("exception.message", err))
	if cfg.StackTrace() {
		fields = append(fields, log.String("exception.stacktrace", string(debug.Stack())))
	}
	rs.LogFieldsAt(cfg.Timestamp(), fields...)
}

// SpanContext implements trace.SpanContext, tracestate included.
func (s *span) SpanContext() trace.SpanContext {
	sc := s.flowtraceContext()
	if sc == nil {
		return trace.SpanContext{}
	}
	w := sc.PropagationContext()
	cfg := trace.SpanContextConfig{
		TraceID:    trace.TraceID(w.TraceID),
		SpanID:     trace.SpanID(w.SpanID),
		TraceFlags: trace.TraceFlags(w.Flags),
		Remote:     s.ot == nil,
	}
	if w.TraceState != "" {
		// The tracer stores only validated tracestate.
		cfg.TraceState, _ = trace.ParseTraceState(w.TraceState)
	}
	return trace.NewSpanContext(cfg)
}

// SetStatus implements trace.Span.
func (s *span) SetStatus(code codes.Code, description string) {
	rs := s.recording()
	if rs == nil {
		return
	}
	switch code {
	case codes.Error:
		rs.SetStatus(tracer.StatusError, description)
	case codes.Ok:
		rs.SetStatus(tracer.StatusOK, "")
	}
}

// SetName implements trace.Span.
func (s *span) SetName(name string) {
	if rs := s.recording(); rs != nil {
		rs.SetOperationName(name)
	}
}

// SetAttributes implements trace.Span.
func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	if rs := s.recording(); rs != nil {
		setAttributes(rs, kv)
	}
}

// TracerProvider implements trace.Span.
func (s *span) TracerProvider() trace.TracerProvider { return s.tracer.p }

func setAttributes(rs *tracer.Span, kvs []attribute.KeyValue) {
	// Converted in batches on the stack, each recorded under one lock.
	var buf [8]tracer.Attribute
	n := 0
	for i := range kvs {
		// The scalar kinds here, without copying the value to a call.
		kv := &kvs[i]
		if len(kv.Key) == 0 {
			continue // not Valid
		}
		var v any
		switch kv.Value.Type() {
		case attribute.STRING:
			v = boxString(kv.Value.AsString())
		case attribute.INT64:
			v = boxInt64(kv.Value.AsInt64())
		case attribute.BOOL:
			v = kv.Value.AsBool()
		case attribute.FLOAT64:
			v = kv.Value.AsFloat64()
		case attribute.EMPTY:
			continue // no value: nothing to record (a tag has no empty kind)
		default:
			v = value(kv.Value)
		}
		buf[n] = tracer.Attribute{Key: string(kv.Key), Value: v}
		if n++; n == len(buf) {
			rs.SetAttributes(buf[:n])
			n = 0
		}
	}
	if n > 0 {
		rs.SetAttributes(buf[:n])
	}
}

// value is an attribute's value as a flowtrace tag value: scalars and
// slices of one scalar type as they are (exported as OTLP arrays), other
// kinds as text.
func value(v attribute.Value) any {
	switch v.Type() {
	case attribute.BOOL:
		return v.AsBool()
	case attribute.INT64:
		return boxInt64(v.AsInt64())
	case attribute.FLOAT64:
		return v.AsFloat64()
	case attribute.STRING:
		return boxString(v.AsString())
	case attribute.STRINGSLICE:
		return v.AsStringSlice()
	case attribute.BOOLSLICE:
		return v.AsBoolSlice()
	case attribute.INT64SLICE:
		return v.AsInt64Slice()
	case attribute.FLOAT64SLICE:
		return v.AsFloat64Slice()
	}
	// Bytes, heterogeneous slices and maps: their text.
	return v.String()
}

// eventFields turns an event into log fields; the name goes last, so an
// attribute named "event" cannot rename it (it is left out).
func eventFields(name string, kvs []attribute.KeyValue) []log.Field {
	fields := make([]log.Field, 0, len(kvs)+4)
	for _, kv := range kvs {
		if !kv.Valid() || kv.Key == "event" {
			continue
		}
		k := string(kv.Key)
		switch kv.Value.Type() {
		case attribute.BOOL:
			fields = append(fields, log.Bool(k, kv.Value.AsBool()))
		case attribute.INT64:
			fields = append(fields, log.Int64(k, kv.Value.AsInt64()))
		case attribute.FLOAT64:
			fields = append(fields, log.Float64(k, kv.Value.AsFloat64()))
		default:
			fields = append(fields, log.String(k, kv.Value.String()))
		}
	}
	return append(fields, log.String("event", name))
}

func stateOf(sc trace.SpanContext) propagation.State {
	return propagation.State{SpanContext: wireOf(sc)}
}

func stateBaggageOnly(sc *tracer.SpanContext) propagation.State {
	return propagation.State{Baggage: sc.Baggage()}
}
