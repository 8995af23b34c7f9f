package tracer

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	mu sync.Mutex
	// violations counts tag-policy violations; see TagPolicy.
	violations int32
	// ownAttrs counts the attributes the tracer wrote itself (sampler,
	// probability, baggage and violations tags: at most a few dozen),
	// which Limits.AttributeCount does not count.
	ownAttrs int16
	// keyLens has bit len(key)%8 set for the key of every attribute:
	// setting a tag whose key length has no bit set skips the search for
	// a key to replace.
	keyLens uint8
	// The fields from mu to here fill 16 bytes: a span with its inline
	// attributes and event stays in its allocation size class, malloc
	// header included (TestSpanShapeSizes).
	finished bool
	data     SpanData
	// eventBuf, when not nil, holds the first event (most spans log at
	// most once): the shapes that usually log (spanLarge, the layered
	// API's) have one, and the small shape saves the 64 bytes.
	eventBuf *[1]Event
}

// A Span is allocated with room for its first attributes, in one of two
// shapes (see Tracer.construct): a local child started without tags (a
// database call, an internal step) usually gets few, an entry span or one
// started with tags (the middleware's) many. The smaller shape keeps the
// bytes allocated per span, which set how often the garbage collector
// runs, down for the common leaf span: it has no room for an event
// either, and stays in the 512-byte size class (TestSpanShapeSizes).
type (
	spanLarge struct {
		Span
		attrs  [8]Attribute
		events [1]Event
	}
	spanSmall struct {
		Span
		attrs [2]Attribute
	}
	// spanWide is for a span started with AttributeRoom above 8 (an HTTP
	// server span gets about 15), in the 1024-byte class: growing the
	// attributes of spanLarge would allocate 16 and copy 8.
	spanWide struct {
		Span
		attrs  [16]Attribute
		events [1]Event
	}
)

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
		s.violations += int32(min(p.CheckFinish(s.data.Name, s.data.Kind, s.data.Attributes), math.MaxInt32))
		if s.violations > 0 {
			s.setTagLocked(ViolationsKey, int(s.violations), true)
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
		s.data.Name = truncateString(name, s.tracer.cfg.limits.NameLength)
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
			value = s.normalize(v)
		default:
			s.violations++
		}
	}
	s.setTagLocked(key, value, false)
}

// setTagLocked sets a tag; own is true for the tracer's own tags, which
// the attribute count limit leaves out. value is normalised already (see
// normalize): SetTag does it before taking the lock.
func (s *Span) setTagLocked(key string, value any, own bool) {
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
	lim := &s.tracer.cfg.limits
	if lim.NameLength > 0 && len(key) > lim.NameLength {
		s.data.DroppedAttributes++
		return
	}
	attrs := s.data.Attributes
	bit := keyBit(key)
	if s.keyLens&bit != 0 {
		for i := range attrs {
			if attrs[i].Key == key {
				attrs[i].Value = value
				return
			}
		}
	}
	if own {
		s.ownAttrs++
	} else if over(lim.AttributeCount, len(attrs)-int(s.ownAttrs)) {
		s.data.DroppedAttributes++
		return
	}
	s.keyLens |= bit
	s.data.Attributes = appendAttribute(attrs, Attribute{Key: key, Value: value})
}

// keyBit is key's bit in Span.keyLens.
func keyBit(key string) uint8 { return 1 << (len(key) & 7) }

// appendAttribute appends a to attrs, growing a full slice to at least 8
// (append would grow the small shape's 2 to 4, then 8).
func appendAttribute(attrs []Attribute, a Attribute) []Attribute {
	if len(attrs) == cap(attrs) {
		grown := make([]Attribute, len(attrs), max(8, 2*cap(attrs)))
		copy(grown, attrs)
		attrs = grown
	}
	return append(attrs, a)
}

// normalize keeps immutable scalar values as they are (no allocation) and
// turns anything else into a string now, so that a value the caller changes
// later cannot change the recorded span.
func (s *Span) normalize(value any) any {
	switch v := value.(type) {
	case string:
		// The common case, checked here rather than in truncate: the
		// boxed value is returned as it is, without a call.
		if limit := s.tracer.cfg.limits.AttributeValueLength; limit > 0 && len(v) > limit {
			return cutString(v, limit)
		}
		return value
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return value
	case ext.SpanKindEnum:
		// span.kind becomes the OTLP kind and is never stored; the converter
		// writes any other use as text.
		return value
	case []byte:
		return s.truncate(string(v), nil)
	case []string, []bool, []int64, []float64:
		return s.cloneSlice(value)
	case error:
		return s.truncate(s.errorString(v), nil)
	case fmt.Stringer:
		return s.truncate(s.stringerString(v), nil)
	case nil:
		return "<nil>"
	}
	// fmt recovers panics in String, Error and Format methods itself.
	return s.truncate(fmt.Sprint(value), nil)
}

// PanicPlaceholder is recorded instead of a value whose String or Error
// method panicked, and as the message of a log field whose Error panicked;
// Stats.UserPanics counts them.
const PanicPlaceholder = "<panic in String or Error>"

// errorString is err.Error(), or PanicPlaceholder when that panics.
func (s *Span) errorString(err error) (msg string) {
	defer s.recoverUser(&msg)
	return err.Error()
}

// stringerString is v.String(), or PanicPlaceholder when that panics.
func (s *Span) stringerString(v fmt.Stringer) (str string) {
	defer s.recoverUser(&str)
	return v.String()
}

// recoverUser, deferred around a call into the caller's code, turns a panic
// into PanicPlaceholder and counts it.
func (s *Span) recoverUser(out *string) {
	if recover() != nil {
		s.tracer.userPanics.Add(1)
		*out = PanicPlaceholder
	}
}

func (s *Span) truncate(v string, boxed any) any {
	if limit := s.tracer.cfg.limits.AttributeValueLength; limit > 0 && len(v) > limit {
		return cutString(v, limit)
	}
	if boxed != nil {
		return boxed
	}
	return v
}

// truncateString cuts s to at most limit bytes (none when limit <= 0)
// without splitting a UTF-8 sequence. It stays small enough to inline: the
// cut itself is cutString.
func truncateString(s string, limit int) string {
	if limit <= 0 || len(s) <= limit {
		return s
	}
	return cutString(s, limit)
}

// cutString cuts s, longer than limit, at a rune boundary. The cut string
// is copied, so that the span does not keep the caller's whole string
// alive.
//
//go:noinline
func cutString(s string, limit int) string {
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return strings.Clone(s[:i])
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
	scratch := attrScratchPool.Get().(*[]Attribute)
	// Field by field, and only what differs from the encoder's last use:
	// a pointer written to the heap while the garbage collector marks
	// costs a write barrier, and assigning the whole struct costs one per
	// pointer word.
	if enc.span != s {
		enc.span = s
	}
	enc.lazy = false
	enc.at = at
	enc.attrs = (*scratch)[:0]
	enc.scratch = scratch
	enc.name = "log"
	if enc.message != "" {
		enc.message = ""
	}
	if enc.errMsg != "" {
		enc.errMsg = ""
	}
	enc.marshalAll(fields)
	out := *enc
	if out.lazy {
		// A lazy logger is user code that was handed the encoder and might
		// keep it (and append to its fields later): such an encoder and
		// its scratch are left to the garbage collector, and the event
		// keeps a copy of the fields.
		out.attrs = append([]Attribute(nil), out.attrs...)
		out.scratch = nil
		return out
	}
	// The encoder goes back as it is: it is reset when it is next used,
	// and what it still points at (this span, the scratch now back in its
	// pool) is kept at most until then or until the pool is emptied by a
	// garbage collection. Clearing it would cost a write barrier per
	// pointer during a collection.
	encoderPool.Put(enc)
	return out
}

var encoderPool = sync.Pool{New: func() any { return new(eventEncoder) }}

// attrScratchPool holds the buffers events' fields are collected in before
// addEventLocked copies them into the span.
var attrScratchPool = sync.Pool{New: func() any { b := make([]Attribute, 0, 8); return &b }}

const maxPooledAttrScratch = 64

// noAttributes is an event's empty field list: empty, not nil, as a
// fresh slice was before.
var noAttributes = []Attribute{}

// placeEventAttributes copies an event's fields out of enc's scratch into
// the span: into the unused end of the attribute array when there is room
// (the span's tags then stop short of it, so a later tag grows into a new
// array rather than over the fields), else into an array of their own.
// It returns the scratch to its pool.
func (s *Span) placeEventAttributes(enc *eventEncoder) []Attribute {
	attrs := enc.attrs
	if enc.scratch == nil {
		return attrs
	}
	n := len(attrs)
	var dst []Attribute
	switch a := s.data.Attributes; {
	case n == 0:
		dst = noAttributes
	case cap(a)-len(a) >= n:
		dst = a[cap(a)-n : cap(a) : cap(a)]
		s.data.Attributes = a[: len(a) : cap(a)-n]
	default:
		dst = make([]Attribute, n)
	}
	copy(dst, attrs)
	releaseScratch(enc)
	enc.attrs = dst
	return dst
}

// releaseScratch returns enc's scratch to its pool; enc.attrs is not to be
// used afterwards.
func releaseScratch(enc *eventEncoder) {
	if enc.scratch == nil {
		return
	}
	if attrs := enc.attrs; cap(attrs) <= maxPooledAttrScratch {
		clear(attrs)
		*enc.scratch = attrs[:0]
		attrScratchPool.Put(enc.scratch)
	}
	enc.attrs, enc.scratch = nil, nil
}

func (s *Span) addEventLocked(enc eventEncoder) {
	if over(s.tracer.cfg.limits.EventCount, len(s.data.Events)) {
		releaseScratch(&enc)
		s.data.DroppedEvents++
		return
	}
	attrs := s.placeEventAttributes(&enc)
	if enc.name == "error" || enc.errMsg != "" {
		s.data.Status = StatusError
		limit := s.tracer.cfg.limits.AttributeValueLength
		if enc.errMsg != "" {
			s.data.StatusMessage = truncateString(enc.errMsg, limit)
		} else if enc.message != "" {
			s.data.StatusMessage = truncateString(enc.message, limit)
		}
	}
	if s.data.Events == nil && s.eventBuf != nil {
		s.data.Events = s.eventBuf[:0]
	}
	s.data.Events = append(s.data.Events, Event{Time: enc.at, Name: enc.name, Attributes: attrs})
}

type eventEncoder struct {
	span  *Span
	lazy  bool
	at    time.Time
	attrs []Attribute
	// scratch is the pooled buffer attrs starts in, until
	// placeEventAttributes copies the fields into the span.
	scratch *[]Attribute
	name    string
	message string
	errMsg  string
}

// marshalAll encodes fields. log.Error calls the error's Error method
// inside Marshal: a panic there leaves the field as PanicPlaceholder and
// the fields after it are encoded still.
func (e *eventEncoder) marshalAll(fields []log.Field) {
	for i := 0; i < len(fields); {
		i = e.marshalFrom(fields, i)
	}
}

// marshalFrom encodes fields from i on, under one deferred recover, and
// returns where to go on: len(fields), or the field after one that
// panicked.
func (e *eventEncoder) marshalFrom(fields []log.Field, i int) (next int) {
	defer func() {
		if recover() != nil {
			e.span.tracer.userPanics.Add(1)
			key := fields[next].Key()
			if key == "error.object" || key == "error" {
				e.errMsg = PanicPlaceholder
			}
			e.add(key, PanicPlaceholder)
			next++
		}
	}()
	for next = i; next < len(fields); next++ {
		fields[next].Marshal(e)
	}
	return next
}

func (e *eventEncoder) add(key string, v any) {
	lim := e.span.tracer.cfg.limits
	if over(lim.AttributeCount, len(e.attrs)) || (lim.NameLength > 0 && len(key) > lim.NameLength) {
		return
	}
	e.attrs = append(e.attrs, Attribute{Key: key, Value: e.span.normalize(v)})
}

func (e *eventEncoder) EmitString(key, value string) {
	switch key {
	case "event":
		e.name = truncateString(value, e.span.tracer.cfg.limits.NameLength)
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
		// Error is called once: a panicking one is counted once.
		e.errMsg = e.span.errorString(err)
		e.add(key, e.errMsg)
		return
	}
	e.add(key, value)
}

// EmitLazyLogger runs the caller's logger; a panic in it keeps the fields
// emitted so far and is counted.
func (e *eventEncoder) EmitLazyLogger(value log.LazyLogger) {
	e.lazy = true
	defer func() {
		if recover() != nil {
			e.span.tracer.userPanics.Add(1)
		}
	}()
	value(e)
}

func (s *Span) addLink(sc propagation.SpanContext, typ string) {
	if over(s.tracer.cfg.limits.LinkCount, len(s.data.Links)) {
		s.data.DroppedLinks++
		return
	}
	// A link stores at most the tracestate that would be propagated, like
	// the span itself.
	if len(sc.TraceState) > maxStoredTraceState {
		sc.TraceState = propagation.TruncateTraceState(sc.TraceState)
	}
	s.data.Links = append(s.data.Links, Link{SpanContext: sc, Type: typ})
}

// SetBaggageItem implements opentracing.Span: the span gets a new context
// holding the item, and contexts handed out before keep theirs. An item
// that would take the baggage over the W3C limits (64 members, 8192 bytes
// of keys and values), or a WithBaggageTags key with a value the validator
// refuses, is dropped and counted in Stats.BaggageDropped.
func (s *Span) SetBaggageItem(key, value string) opentracing.Span {
	tag := s.tracer.isBaggageTag(key)
	if tag && !s.tracer.cfg.baggageValid(key, value) {
		s.tracer.baggageDropped.Add(1)
		return s
	}
	s.mu.Lock()
	ok := setBaggage(&s.ctx, key, value)
	if ok && tag && !s.finished {
		s.setTagLocked(key, s.normalize(value), true)
	}
	s.mu.Unlock()
	if !ok {
		s.tracer.baggageDropped.Add(1)
	}
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

// setBaggage swaps in a copy of the context with key set, unless that takes
// the baggage over the W3C limits: then it reports false. The baggage then
// never holds more than 64 members, so each call costs at most a copy of
// 64 members and n calls cost linear time (copying all the items before
// each one made 10,000 calls quadratic). Concurrent calls on one span
// each land (compare-and-swap), in some order.
func setBaggage(p *atomic.Pointer[SpanContext], key, value string) bool {
	for {
		cur := p.Load()
		size, others := len(key)+len(value), 0
		cur.baggage.Each(func(m propagation.Member) bool {
			if m.Key != key {
				size += len(m.Key) + len(m.Value) + len(m.Properties)
				others++
			}
			return true
		})
		if others >= propagation.MaxBaggageMembers || size > propagation.MaxBaggageBytes {
			return false
		}
		var next *SpanContext
		m := propagation.Member{Key: key, Value: value}
		if cur.baggage.Len() == 0 {
			// The first item (a flow id): the context and its baggage in
			// one allocation.
			one := &contextWithItem{ctx: *cur}
			one.ctx.baggage = cur.baggage.WithIn(m, one.item[:])
			next = &one.ctx
		} else {
			c := *cur
			c.baggage = cur.baggage.With(m)
			next = &c
		}
		if p.CompareAndSwap(cur, next) {
			return true
		}
	}
}

// contextWithItem is a span context whose baggage holds one item.
type contextWithItem struct {
	ctx  SpanContext
	item [1]propagation.Member
}

// nonRecordingSpan is an unsampled span: it carries context and baggage so
// that propagation works, and records nothing. A root (or a span whose
// context differs from its parent's) is allocated as a nonRecordingRoot
// holding its context; an unsampled child of an unsampled span points at
// its parent's context (see sharesContext) and is only these two words.
type nonRecordingSpan struct {
	tracer *Tracer
	ctx    atomic.Pointer[SpanContext]
}

// nonRecordingRoot is a nonRecordingSpan allocated with its context.
type nonRecordingRoot struct {
	nonRecordingSpan
	initial SpanContext
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
	if s.tracer.isBaggageTag(key) && !s.tracer.cfg.baggageValid(key, value) {
		s.tracer.baggageDropped.Add(1)
		return s
	}
	if !setBaggage(&s.ctx, key, value) {
		s.tracer.baggageDropped.Add(1)
	}
	return s
}
