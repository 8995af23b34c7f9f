package tracer

import (
	"context"
	"math"
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

// SpanStart is a new span as an API layered on the tracer describes it
// (package oteltracer's Start): what StartSpan's options say, given
// directly, so that no option is boxed or decoded.
type SpanStart struct {
	// Parent is the parent's context; nil starts a trace.
	Parent *SpanContext
	// Links are related contexts that are not the parent.
	Links []*SpanContext
	// StartTime zero: now.
	StartTime time.Time
	// Kind zero: internal.
	Kind SpanKind
	// Scope is the instrumentation scope (bounded by Limits.NameLength).
	Scope Scope
}

// SpanMemory gives StartSpanIn the memory of the span it starts, so that
// a layered API keeps its per-span state (oteltracer: the OpenTelemetry
// view and the context Start returns) in the allocation of the tracer's
// span. It is called at most once, after the sampling decision: with
// recording true it returns a zero RecordingSpan, else a zero
// NonRecordingSpan, either used for nothing else; nil makes the tracer
// allocate.
type SpanMemory func(recording bool) (*RecordingSpan, *NonRecordingSpan)

// RecordingSpan is the memory of a sampled span, for SpanMemory: a Span
// with room for 6 attributes, 64 bytes less than the 8 of an OpenTracing
// span started with tags, so that with a layered API's 64 bytes of
// per-span state the whole stays in that span's allocation size class
// (768 bytes; bytes allocated set how often the garbage collector runs).
// A 7th attribute grows the slice as on any span. The span StartSpanIn
// returns for it is not this type.
type RecordingSpan struct{ s spanLayered }

type spanLayered struct {
	Span
	attrs  [6]Attribute
	events [1]Event
}

// NonRecordingSpan is the memory of an unsampled span, for SpanMemory; the
// span StartSpanIn returns for it is not this type, and this type has no
// use of its own.
type NonRecordingSpan struct{ s nonRecordingRoot }

// recordingMemory is the span in mem's memory, or nil.
func recordingMemory(mem SpanMemory) *Span {
	if mem != nil {
		if r, _ := mem(true); r != nil {
			r.s.data.Attributes = r.s.attrs[:0]
			r.s.eventBuf = &r.s.events
			return &r.s.Span
		}
	}
	return nil
}

func nonRecordingMemory(mem SpanMemory) *nonRecordingRoot {
	if mem != nil {
		if _, nr := mem(false); nr != nil {
			return &nr.s
		}
	}
	return nil
}

func newNonRecordingRoot(t *Tracer, mem SpanMemory) *nonRecordingRoot {
	s := nonRecordingMemory(mem)
	if s == nil {
		s = new(nonRecordingRoot)
	}
	s.tracer = t
	return s
}

// newNonRecordingChild is the span that carries its parent's context
// (sharesContext): given memory, the part of it that is that span.
func newNonRecordingChild(t *Tracer, mem SpanMemory) *nonRecordingSpan {
	var s *nonRecordingSpan
	if r := nonRecordingMemory(mem); r != nil {
		s = &r.nonRecordingSpan
	} else {
		s = new(nonRecordingSpan)
	}
	s.tracer = t
	return s
}

// StartSpanIn starts a span as StartSpan does (same limits, sampler,
// counters and tags), described by st, in the memory mem gives. The
// result is a *Span when the span is recording.
func (t *Tracer) StartSpanIn(name string, st *SpanStart, mem SpanMemory) opentracing.Span {
	name = truncateString(name, t.cfg.limits.NameLength)
	var o startOptions
	if st.Parent != nil {
		o.refs.add(opentracing.SpanReference{Type: opentracing.ChildOfRef, ReferencedContext: st.Parent})
	}
	o.startTime = st.StartTime
	for _, l := range st.Links {
		if l != nil {
			o.links.add(linkOption{ctx: l})
		}
	}
	sp := t.start(name, &o, mem)
	if s, ok := sp.(*Span); ok {
		// Not yet shared: no lock needed.
		if st.Kind != KindUnspecified {
			s.data.Kind = st.Kind
		}
		if st.Scope != (Scope{}) {
			lim := t.cfg.limits.NameLength
			s.data.Scope = Scope{Name: truncateString(st.Scope.Name, lim), Version: truncateString(st.Scope.Version, lim)}
		}
	}
	return sp
}

// SetAttributes sets attrs as SetTag sets each, under one lock. Their
// values must be of kinds that run no user code when recorded (scalars,
// strings, slices of one scalar type: OpenTelemetry's attribute values);
// attrs is not kept.
func (s *Span) SetAttributes(attrs []Attribute) {
	s.mu.Lock()
	if !s.finished {
		s.setAttributesLocked(attrs)
	}
	s.mu.Unlock()
}

// setAttributesLocked is setUserTagLocked(key, normalize(value)) for each
// of attrs. Runs of attributes that are plainly new and need no change
// are appended by appendNewAttributes, a loop without calls; the others,
// one at a time, take SetTag's way.
func (s *Span) setAttributesLocked(attrs []Attribute) {
	if s.tracer.cfg.policy != nil {
		for i := range attrs {
			s.setUserTagLocked(attrs[i].Key, s.normalize(attrs[i].Value))
		}
		return
	}
	for {
		attrs = attrs[s.appendNewAttributes(attrs):]
		if len(attrs) == 0 {
			return
		}
		s.setTagLocked(attrs[0].Key, s.normalize(attrs[0].Value), false)
		attrs = attrs[1:]
	}
}

// appendNewAttributes appends the leading attributes of attrs that
// setTagLocked would append as they are, and returns how many: each has a
// key that is not special, within Limits.NameLength and whose seenBit no
// key of the span has, so it is new without comparing it with each; a
// string within Limits.AttributeValueLength or one of OpenTelemetry's
// other scalar kinds; and there is room for it within the count limit and
// the slice's capacity.
func (s *Span) appendNewAttributes(attrs []Attribute) int {
	lim := &s.tracer.cfg.limits
	a := s.data.Attributes
	// seen has the seenBit of every key the span holds.
	var seen uint64
	for i := range a {
		seen |= seenBit(a[i].Key)
	}
	room := cap(a) - len(a)
	if lim.AttributeCount >= 0 {
		room = min(room, lim.AttributeCount-(len(a)-int(s.ownAttrs)))
	}
	nameLen, valueLen := lim.NameLength, lim.AttributeValueLength
	if nameLen <= 0 {
		nameLen = math.MaxInt
	}
	if valueLen <= 0 {
		valueLen = math.MaxInt
	}
	n := 0
	for ; n < len(attrs) && n < room; n++ {
		key := attrs[n].Key
		bit := seenBit(key)
		if seen&bit != 0 || len(key) > nameLen || (bit&specialKeyBits != 0 && isSpecialKey(key)) {
			break
		}
		v := attrs[n].Value
		if x, ok := v.(string); ok {
			if len(x) > valueLen {
				break
			}
		} else if !isInt64(v) && !isBool(v) && !isFloat64(v) {
			break
		}
		seen |= bit
		s.keyLens |= keyBit(key) // setTagLocked's own "seen" (span.go)
		a = a[:len(a)+1]
		a[len(a)-1] = Attribute{Key: key, Value: v}
	}
	s.data.Attributes = a
	return n
}

// The keys setTagLocked treats apart, as constants: compared inline.
const (
	spanKindKey         = "span.kind"         // ext.SpanKind
	errorKey            = "error"             // ext.Error
	samplingPriorityKey = "sampling.priority" // ext.SamplingPriority
)

// seenBit is key's bit in appendNewAttributes' mask of the keys a span
// holds: from its length and its first and last bytes, because many tag
// keys share a length (component, http.host and peer.ipv4 are 9 bytes)
// and a shared bit sends an attribute the slow way.
func seenBit(key string) uint64 {
	h := uint(len(key)) * 7
	if len(key) > 0 {
		h += uint(key[0])*3 + uint(key[len(key)-1])
	}
	return 1 << (h & 63)
}

// specialKeyBits has the seenBits of the special keys.
var specialKeyBits = seenBit(spanKindKey) | seenBit(errorKey) | seenBit(samplingPriorityKey)

// isSpecialKey reports whether setTagLocked treats key apart; the longest
// is compared in two parts, each of which the compiler compares inline.
func isSpecialKey(key string) bool {
	return key == spanKindKey || key == errorKey ||
		(len(key) == len(samplingPriorityKey) && key[:16] == samplingPriorityKey[:16] && key[16:] == samplingPriorityKey[16:])
}

func isInt64(v any) bool   { _, ok := v.(int64); return ok }
func isBool(v any) bool    { _, ok := v.(bool); return ok }
func isFloat64(v any) bool { _, ok := v.(float64); return ok }
