package tracer

import (
	"fmt"

	"sync"
	"sync/atomic"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/log"

	"github.com/flowtrace/flowtrace/propagation"
)

var samplingPriority = ext.SamplingPriority

// Span is a sampled, recording span. Spans are never pooled: a span used
// after Finish ignores the call and cannot touch another span's data.
type Span struct {
	tracer *Tracer
	ctx    atomic.Pointer[SpanContext]
	// initial is the first context, allocated with the span.
	initial SpanContext

	// mu guards everything below; it is never held while calling user code
	// (Stringers, log field marshalling) or the processor.
	mu       sync.Mutex
	finished bool
	// violations counts tag-policy violations; see TagPolicy.
	violations int
	data       SpanData
	attrBuf    [8]Attribute
	// eventBuf holds the first event: most spans log at most once.
	eventBuf [1]Event
}

var _ opentracing.Span = (*Span)(nil)

// Context implements opentracing.Span.
func (s *Span) Context() opentracing.SpanContext { return s.ctx.Load() }

// Tracer implements opentracing.Span.
func (s *Span) Tracer() opentracing.Tracer { return s.tracer }

// Finish implements opentracing.Span. A second Finish does nothing.
func (s *Span) Finish() { s.FinishWithOptions(opentracing.FinishOptions{}) }

// FinishWithOptions implements opentracing.Span.
func (s *Span) FinishWithOptions(opts opentracing.FinishOptions) {
	end := opts.FinishTime
	var events []eventEncoder
	for _, lr := range opts.LogRecords {
		events = append(events, s.encodeEvent(lr.Timestamp, lr.Fields))
	}
	for _, ld := range opts.BulkLogData {
		lr := ld.ToLogRecord()
		events = append(events, s.encodeEvent(lr.Timestamp, lr.Fields))
	}
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return
	}
	if end.IsZero() {
		// Start carries a monotonic reading when the tracer took it, so the
		// duration survives wall-clock steps.
		end = s.data.Start.Add(time.Since(s.data.Start))
	}
	for _, e := range events {
		s.addEventLocked(e)
	}
	if p := s.tracer.cfg.policy; p != nil {
		s.violations += p.CheckFinish(s.data.Name, s.data.Kind, s.data.Attributes)
		if s.violations > 0 {
			s.setTagLocked(ViolationsKey, s.violations)
		}
	}
	s.finished = true
	s.data.End = end
	s.mu.Unlock()
	// From here on the data belongs to the processor: every writer above
	// checks finished under mu first.
	s.tracer.finished.Add(1)
	s.tracer.cfg.processor.OnEnd(&s.data)
}

// SetOperationName implements opentracing.Span.
func (s *Span) SetOperationName(name string) opentracing.Span {
	s.mu.Lock()
	if !s.finished {
		s.data.Name = name
	}
	s.mu.Unlock()
	return s
}

// SetTag implements opentracing.Span. span.kind sets the OTLP span kind and
// error=true the error status; other values are kept as attributes.
func (s *Span) SetTag(key string, value any) opentracing.Span {
	// Stringers and errors are user code: turn them into strings before
	// taking the lock.
	value = s.normalize(value)
	s.mu.Lock()
	if !s.finished {
		s.setUserTagLocked(key, value)
	}
	s.mu.Unlock()
	return s
}

// setUserTagLocked applies the tag policy, if any, to a tag set by the
// caller: the tracer's own tags are not judged.
func (s *Span) setUserTagLocked(key string, value any) {
	if p := s.tracer.cfg.policy; p != nil {
		v, verdict := p.CheckTag(key, value)
		switch verdict {
		case TagOK:
		case TagDropped:
			s.violations++
			return
		case TagCoerced:
			s.violations++
			value = v
		default:
			s.violations++
		}
	}
	s.setTagLocked(key, value)
}

func (s *Span) setTagLocked(key string, value any) {
	switch key {
	case string(ext.SpanKind):
		s.data.Kind = parseKind(value)
		return
	case string(ext.Error):
		if b, ok := value.(bool); ok {
			if b {
				s.data.Status = StatusError
			} else if s.data.Status == StatusError {
				s.data.Status, s.data.StatusMessage = StatusUnset, ""
			}
			return
		}
	case string(samplingPriority):
		return
	}
	value = s.normalize(value)
	attrs := s.data.Attributes
	for i := range attrs {
		if attrs[i].Key == key {
			attrs[i].Value = value
			return
		}
	}
	if limit := s.tracer.cfg.limits.AttributeCount; limit > 0 && len(attrs) >= limit {
		s.data.DroppedAttributes++
		return
	}
	s.data.Attributes = append(attrs, Attribute{Key: key, Value: value})
}

// normalize keeps immutable scalar values as they are (no allocation) and
// turns anything else into a string now, so that a value the caller changes
// later cannot change the recorded span.
func (s *Span) normalize(value any) any {
	switch v := value.(type) {
	case string:
		return s.truncate(v, value)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return value
	case ext.SpanKindEnum:
		// span.kind becomes the OTLP kind and is never stored; the converter
		// writes any other use as text.
		return value
	case []byte:
		return s.truncate(string(v), nil)
	case error:
		return s.truncate(v.Error(), nil)
	case fmt.Stringer:
		return s.truncate(v.String(), nil)
	case nil:
		return "<nil>"
	}
	return s.truncate(fmt.Sprint(value), nil)
}

func (s *Span) truncate(v string, boxed any) any {
	if limit := s.tracer.cfg.limits.AttributeValueLength; limit > 0 && len(v) > limit {
		return v[:limit]
	}
	if boxed != nil {
		return boxed
	}
	return v
}

func parseKind(v any) SpanKind {
	var k string
	switch v := v.(type) {
	case ext.SpanKindEnum:
		k = string(v)
	case string:
		k = v
	}
	switch k {
	case "server":
		return KindServer
	case "client":
		return KindClient
	case "producer":
		return KindProducer
	case "consumer":
		return KindConsumer
	}
	return KindInternal
}

// LogFields implements opentracing.Span. An "event" field names the event;
// event=error marks the span as failed.
func (s *Span) LogFields(fields ...log.Field) {
	enc := s.encodeEvent(time.Time{}, fields)
	s.mu.Lock()
	if !s.finished {
		s.addEventLocked(enc)
	}
	s.mu.Unlock()
}

// LogKV implements opentracing.Span.
func (s *Span) LogKV(alternatingKeyValues ...any) {
	fields, err := log.InterleavedKVToFields(alternatingKeyValues...)
	if err != nil {
		fields = []log.Field{log.Error(err), log.String("function", "LogKV")}
	}
	s.LogFields(fields...)
}

// encodeEvent turns log fields into an event. It runs without the span's
// lock: Field.Marshal, lazy loggers and Stringers are user code.
func (s *Span) encodeEvent(at time.Time, fields []log.Field) eventEncoder {
	if at.IsZero() {
		at = time.Now()
	}
	// Field.Marshal takes an interface, which would move a local encoder to
	// the heap on every event; encoders are pooled instead. They are ours
	// alone: nothing a user holds points into one once this returns.
	enc := encoderPool.Get().(*eventEncoder)
	*enc = eventEncoder{span: s, attrs: make([]Attribute, 0, len(fields)), name: "log", at: at}
	for _, f := range fields {
		f.Marshal(enc)
	}
	out := *enc
	if !out.lazy {
		// A lazy logger is user code that was handed the encoder and might
		// keep it: such an encoder is left to the garbage collector.
		*enc = eventEncoder{}
		encoderPool.Put(enc)
	}
	return out
}

var encoderPool = sync.Pool{New: func() any { return new(eventEncoder) }}

func (s *Span) addEventLocked(enc eventEncoder) {
	if limit := s.tracer.cfg.limits.EventCount; limit > 0 && len(s.data.Events) >= limit {
		s.data.DroppedEvents++
		return
	}
	if enc.name == "error" || enc.errMsg != "" {
		s.data.Status = StatusError
		if enc.errMsg != "" {
			s.data.StatusMessage = enc.errMsg
		} else if enc.message != "" {
			s.data.StatusMessage = enc.message
		}
	}
	if s.data.Events == nil {
		s.data.Events = s.eventBuf[:0]
	}
	s.data.Events = append(s.data.Events, Event{Time: enc.at, Name: enc.name, Attributes: enc.attrs})
}

type eventEncoder struct {
	span    *Span
	lazy    bool
	at      time.Time
	attrs   []Attribute
	name    string
	message string
	errMsg  string
}

func (e *eventEncoder) add(key string, v any) {
	if limit := e.span.tracer.cfg.limits.AttributeCount; limit > 0 && len(e.attrs) >= limit {
		return
	}
	e.attrs = append(e.attrs, Attribute{Key: key, Value: e.span.normalize(v)})
}

func (e *eventEncoder) EmitString(key, value string) {
	switch key {
	case "event":
		e.name = value
		return
	case "message":
		e.message = value
	case "error.object", "error":
		e.errMsg = value
	}
	e.add(key, value)
}
func (e *eventEncoder) EmitBool(key string, value bool)       { e.add(key, value) }
func (e *eventEncoder) EmitInt(key string, value int)         { e.add(key, value) }
func (e *eventEncoder) EmitInt32(key string, value int32)     { e.add(key, value) }
func (e *eventEncoder) EmitInt64(key string, value int64)     { e.add(key, value) }
func (e *eventEncoder) EmitUint32(key string, value uint32)   { e.add(key, value) }
func (e *eventEncoder) EmitUint64(key string, value uint64)   { e.add(key, value) }
func (e *eventEncoder) EmitFloat32(key string, value float32) { e.add(key, value) }
func (e *eventEncoder) EmitFloat64(key string, value float64) { e.add(key, value) }
func (e *eventEncoder) EmitObject(key string, value any) {
	if err, ok := value.(error); ok && (key == "error.object" || key == "error") {
		e.errMsg = err.Error()
	}
	e.add(key, value)
}
func (e *eventEncoder) EmitLazyLogger(value log.LazyLogger) {
	e.lazy = true
	value(e)
}

func (s *Span) addLink(sc propagation.SpanContext, typ string) {
	if limit := s.tracer.cfg.limits.LinkCount; limit > 0 && len(s.data.Links) >= limit {
		s.data.DroppedLinks++
		return
	}
	s.data.Links = append(s.data.Links, Link{SpanContext: sc, Type: typ})
}

// SetBaggageItem implements opentracing.Span: the span gets a new context
// holding the item, and contexts handed out before keep theirs.
func (s *Span) SetBaggageItem(key, value string) opentracing.Span {
	s.mu.Lock()
	setBaggage(&s.ctx, key, value)
	if !s.finished {
		for _, k := range s.tracer.cfg.baggageTag {
			if k == key {
				s.setTagLocked(key, value)
			}
		}
	}
	s.mu.Unlock()
	return s
}

// BaggageItem implements opentracing.Span.
func (s *Span) BaggageItem(key string) string {
	v, _ := s.ctx.Load().baggage.Get(key)
	return v
}

// LogEvent implements the deprecated opentracing.Span method.
func (s *Span) LogEvent(event string) { s.LogFields(log.String("event", event)) }

// LogEventWithPayload implements the deprecated opentracing.Span method.
func (s *Span) LogEventWithPayload(event string, payload any) {
	s.LogFields(log.String("event", event), log.Object("payload", payload))
}

// Log implements the deprecated opentracing.Span method.
func (s *Span) Log(ld opentracing.LogData) {
	lr := ld.ToLogRecord()
	enc := s.encodeEvent(lr.Timestamp, lr.Fields)
	s.mu.Lock()
	if !s.finished {
		s.addEventLocked(enc)
	}
	s.mu.Unlock()
}

// setBaggage swaps in a copy of the context with key set. Callers serialise
// calls for one span.
func setBaggage(p *atomic.Pointer[SpanContext], key, value string) {
	cur := p.Load()
	next := *cur
	next.baggage = cur.baggage.With(propagation.Member{Key: key, Value: value})
	p.Store(&next)
}

// nonRecordingSpan is an unsampled span: it carries context and baggage so
// that propagation works, and records nothing.
type nonRecordingSpan struct {
	tracer  *Tracer
	ctx     atomic.Pointer[SpanContext]
	initial SpanContext
	mu      sync.Mutex
}

var _ opentracing.Span = (*nonRecordingSpan)(nil)

func (s *nonRecordingSpan) Context() opentracing.SpanContext            { return s.ctx.Load() }
func (s *nonRecordingSpan) Tracer() opentracing.Tracer                  { return s.tracer }
func (s *nonRecordingSpan) Finish()                                     {}
func (s *nonRecordingSpan) FinishWithOptions(opentracing.FinishOptions) {}
func (s *nonRecordingSpan) SetOperationName(string) opentracing.Span    { return s }
func (s *nonRecordingSpan) SetTag(string, any) opentracing.Span         { return s }
func (s *nonRecordingSpan) LogFields(...log.Field)                      {}
func (s *nonRecordingSpan) LogKV(...any)                                {}
func (s *nonRecordingSpan) LogEvent(string)                             {}
func (s *nonRecordingSpan) LogEventWithPayload(string, any)             {}
func (s *nonRecordingSpan) Log(opentracing.LogData)                     {}
func (s *nonRecordingSpan) BaggageItem(key string) string {
	v, _ := s.ctx.Load().baggage.Get(key)
	return v
}
func (s *nonRecordingSpan) SetBaggageItem(key, value string) opentracing.Span {
	s.mu.Lock()
	setBaggage(&s.ctx, key, value)
	s.mu.Unlock()
	return s
}
