package tracer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/internal/blocks"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// Limits is flowtrace's one limit policy: it bounds everything one span
// may hold, applied as the span is recorded, so that no input makes a span
// grow without bound. The export package relies on these bounds (a span
// that alone exceeds an export request's size is cut down by the same
// rules) rather than having limits of its own. Start from DefaultLimits and
// change the fields you need.
//
// Counts (AttributeCount, EventCount, LinkCount): what goes over is dropped
// and counted in SpanData's DroppedAttributes, DroppedEvents and
// DroppedLinks. Zero means none is kept, as OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT=0
// (and the event and link limits) mean in the OpenTelemetry specification;
// a negative count means unlimited. API change: zero used to mean
// unlimited, so a Limits literal that leaves a count out now keeps none of
// that kind; write -1 for unlimited.
//
// AttributeCount bounds the tags the caller sets. The tracer's own tags
// (sampling.probability, the baggage items copied by WithBaggageTags and
// semconv.violations) come on top, at most len(WithBaggageTags)+2 of them:
// they are what tools weight and group spans by, and a limit of 1 still
// leaves the caller one tag. Each event keeps at most AttributeCount fields
// (the rest are left out, uncounted: SpanData has no per-event count).
//
// Lengths, in bytes; zero or negative means unlimited:
//   - AttributeValueLength bounds string tag values, event field values and
//     the status message. Longer ones are cut at a UTF-8 boundary.
//   - NameLength bounds span names and event names, cut the same way, and
//     tag and event field keys: a tag whose key is longer is dropped (and
//     counted as a dropped attribute), since a cut key names another tag.
//
// Not a field: a span stores only the tracestate that would be propagated,
// at most 512 bytes (propagation.TruncateTraceState), whatever the caller
// sent.
type Limits struct {
	AttributeCount       int // OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT
	AttributeValueLength int // OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT
	EventCount           int // OTEL_SPAN_EVENT_COUNT_LIMIT
	LinkCount            int // OTEL_SPAN_LINK_COUNT_LIMIT
	NameLength           int // span names, event names, keys
}

// DefaultLimits are the OpenTelemetry defaults, plus a value length cap that
// keeps one runaway tag from filling the export queue and a name and key
// cap of 1024 bytes.
func DefaultLimits() Limits {
	return Limits{AttributeCount: 128, AttributeValueLength: 4096, EventCount: 128, LinkCount: 128, NameLength: 1024}
}

// maxStoredTraceState is the length to which Inject truncates tracestate
// (propagation.TruncateTraceState): checked here first, without a call.
const maxStoredTraceState = 512

// over reports whether n items already fill a count limit.
func over(limit, n int) bool { return limit >= 0 && n >= limit }

// Tag keys the tracer itself writes.
const (
	// SamplingProbabilityKey holds the probability with which the trace was
	// sampled at its root; tools weight a trace by its inverse.
	SamplingProbabilityKey = "sampling.probability"
	// FlowIDKey is both the baggage key of the flow id and its tag.
	FlowIDKey = "flow_id"
)

type config struct {
	sampler    Sampler
	processor  SpanProcessor
	propagator propagation.Propagator
	limits     Limits
	recording  bool
	baggageTag []string
	// baggageValid judges the values of the baggageTag keys.
	baggageValid func(key, value string) bool
	policy       TagPolicy
	logger       *slog.Logger // see WithLogger

	// passThrough: spans carry their parent's context as it is (PassThrough).
	passThrough bool
}

// Option configures a Tracer.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSampler sets the sampler (default: ParentBased(AlwaysOn())).
func WithSampler(s Sampler) Option {
	return optionFunc(func(c *config) {
		if s != nil {
			c.sampler = s
		}
	})
}

// WithProcessor sets where finished sampled spans go (default: nowhere).
func WithProcessor(p SpanProcessor) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.processor = p
		}
	})
}

// WithPropagator sets the formats used by Inject and Extract for the TextMap
// and HTTPHeaders formats (default: propagation.Default(): W3C trace
// context, W3C baggage and the flow id).
func WithPropagator(p propagation.Propagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.propagator = p
		}
	})
}

// WithLimits sets per-span limits (default: DefaultLimits()).
func WithLimits(l Limits) Option {
	return optionFunc(func(c *config) { c.limits = l })
}

// WithBaggageTags names baggage items that are copied as tags onto every
// sampled span (default: flow_id, critical_operation, traffic_source).
func WithBaggageTags(keys ...string) Option {
	return optionFunc(func(c *config) { c.baggageTag = append([]string(nil), keys...) })
}

// WithBaggageValidator sets the check that values of the WithBaggageTags
// keys must pass before they are tagged or propagated (default:
// [ValidBaggageTagValue]). It runs on Extract, on SetBaggageItem and
// nowhere else: an invalid value is removed from the extracted context, or
// not set, and counted in Stats.BaggageDropped, so it is neither tagged on
// any span nor sent on. flowtrace.Start installs the semantic conventions'
// rules (a registered critical operation, a known traffic source, a valid
// flow id). It must be fast and safe for concurrent use; nil is ignored.
func WithBaggageValidator(valid func(key, value string) bool) Option {
	return optionFunc(func(c *config) {
		if valid != nil {
			c.baggageValid = valid
		}
	})
}

// ValidBaggageTagValue is the default check of WithBaggageValidator: 1 to
// 128 bytes of [A-Za-z0-9._~+/=:-], the flow id's character set, which
// leaves out control characters, escape sequences, spaces, quotes and
// delimiters.
func ValidBaggageTagValue(_, value string) bool { return flowid.Valid(value) }

// NonRecording makes a tracer that records and exports nothing yet still
// samples: its sampler decides as configured and the decision travels in
// the sampled flag (and th), as in an OpenTelemetry SDK without an
// exporter, so the services below it sample as they would with it. Trace
// context and baggage (the flow id among it) propagate as usual. Recording
// and sampling are separate: NonRecording leaves the sampler alone.
func NonRecording() Option {
	return optionFunc(func(c *config) { c.recording = false })
}

// PassThrough makes the tracer of a disabled SDK (OTEL_SDK_DISABLED), as
// OpenTelemetry's no-op tracer behaves: it records nothing and decides
// nothing. A span started as the child of another carries that context
// unchanged (same trace id, span id, flags and tracestate, and baggage), so
// the services below see the caller's decision; a span with no parent has
// no trace context, so Inject writes none and imposes no "not sampled" on
// anyone, while its baggage (the flow id) still travels.
func PassThrough() Option {
	return optionFunc(func(c *config) {
		c.recording = false
		c.passThrough = true
	})
}

// Tracer is flowtrace's opentracing.Tracer. Its zero value is not usable:
// call New.
type Tracer struct {
	cfg config

	// A span touches one of sampled and notRecorded (Started is their
	// sum), and a sampled one finished too.
	sampled     atomic.Uint64
	notRecorded atomic.Uint64
	finished    atomic.Uint64
	shutdown    atomic.Bool

	baggageDropped atomic.Uint64
	userPanics     atomic.Uint64

	ctxHook atomic.Pointer[ContextHook] // see SetContextHook

	// inherits: the sampler leaves a child of a valid, decided parent
	// unsampled when the parent is (ParentBased, AlwaysOff), so that
	// startLean starts such a child without asking it.
	inherits bool
	// ids draws startLean's root ids.
	ids idSource
	// roots cuts startLean's unsampled roots from blocks of 8.
	roots blocks.Cutter[leanRoot]

	edge EdgeCounters // see Edge
}

var _ opentracing.Tracer = (*Tracer)(nil)

// New returns a tracer. With no options it samples everything and exports
// nothing: give it a processor (see the export package) to ship spans.
func New(opts ...Option) *Tracer {
	cfg := config{
		sampler:    ParentBased(AlwaysOn()),
		processor:  noopProcessor{},
		propagator: propagation.Default(),
		limits:     DefaultLimits(),
		recording:  true,
		baggageTag: []string{FlowIDKey, "critical_operation", "traffic_source"},

		baggageValid: ValidBaggageTagValue,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	t := &Tracer{cfg: cfg, inherits: inheritsUnsampled(cfg.sampler)}
	t.ids.init()
	return t
}

// Stats counts spans over the tracer's life.
type Stats struct {
	Started  uint64 // spans started
	Sampled  uint64 // spans started that record
	Finished uint64 // sampled spans finished and handed to the processor
	// BaggageDropped counts baggage items left out: values of the
	// WithBaggageTags keys that failed WithBaggageValidator (extracted or
	// set), and items SetBaggageItem could not add within the W3C limits of
	// 64 members and 8192 bytes.
	BaggageDropped uint64
	// UserPanics counts calls into the caller's code (a tag value's
	// String, an error's Error, a lazy logger) that panicked; the panic
	// was recovered and PanicPlaceholder recorded instead of the value.
	UserPanics uint64
}

// Stats returns the tracer's counters.
func (t *Tracer) Stats() Stats {
	st := Stats{
		Sampled: t.sampled.Load(), Finished: t.finished.Load(),
		BaggageDropped: t.baggageDropped.Load(), UserPanics: t.userPanics.Load(),
	}
	// Sampled was read first, so Started is never below it.
	st.Started = st.Sampled + t.notRecorded.Load()
	return st
}

// Sampler returns the tracer's sampler.
func (t *Tracer) Sampler() Sampler { return t.cfg.sampler }

// ForceFlush exports what the processor holds.
func (t *Tracer) ForceFlush(ctx context.Context) error { return t.cfg.processor.ForceFlush(ctx) }

// Shutdown flushes and stops the processor, then closes the tag policy
// if it is an io.Closer (semconv's enforcer stops its log worker); it
// returns by ctx's deadline. Spans finished afterwards are handed to the
// processor, which counts them as dropped.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if !t.shutdown.CompareAndSwap(false, true) {
		return nil
	}
	err := t.cfg.processor.Shutdown(ctx)
	if c, ok := t.cfg.policy.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	return err
}

type linkOption struct{ ctx opentracing.SpanContext }

// Apply does nothing: other tracers ignore a link they do not understand.
func (linkOption) Apply(*opentracing.StartSpanOptions) {}

// LinkTo relates the new span to ctx without making ctx its parent: a
// consumer batch linking to each message's producer, or an edge that starts
// a new trace for an untrusted caller. Tracers other than flowtrace's ignore
// the option.
func LinkTo(ctx opentracing.SpanContext) opentracing.StartSpanOption { return linkOption{ctx: ctx} }

// Reference is opentracing.SpanReference{Type: typ, ReferencedContext:
// ctx} as a start option. For a context of flowtrace's tracer the option
// is one pointer, which a StartSpanOption holds without allocating (the
// SpanReference struct is boxed, once per span).
func Reference(typ opentracing.SpanReferenceType, ctx opentracing.SpanContext) opentracing.StartSpanOption {
	if c, ok := ctx.(*SpanContext); ok && c != nil {
		switch typ {
		case opentracing.ChildOfRef:
			return childOfOption{c}
		case opentracing.FollowsFromRef:
			return followsFromOption{c}
		}
	}
	return opentracing.SpanReference{Type: typ, ReferencedContext: ctx}
}

type (
	childOfOption     struct{ c *SpanContext }
	followsFromOption struct{ c *SpanContext }
)

func (o childOfOption) Apply(so *opentracing.StartSpanOptions) { opentracing.ChildOf(o.c).Apply(so) }
func (o followsFromOption) Apply(so *opentracing.StartSpanOptions) {
	opentracing.FollowsFrom(o.c).Apply(so)
}

// AttributeRoom is a StartSpan option: the span is expected to get n
// attributes, the tracer's own included, so that a sampled span is
// allocated with room for them (above 8: 16) instead of growing its
// attribute slice. Tracers other than flowtrace's ignore it.
type AttributeRoom int

// Apply implements opentracing.StartSpanOption; it does nothing.
func (AttributeRoom) Apply(*opentracing.StartSpanOptions) {}

// StartSpan implements opentracing.Tracer. It runs in four steps, each its
// own function: decode the options, choose the parent, decide (sampling and
// the trace context the span carries) and construct the span.
func (t *Tracer) StartSpan(operationName string, opts ...opentracing.StartSpanOption) opentracing.Span {
	// Bounded before the sampler sees it: a per-operation sampler keeps
	// names.
	operationName = truncateString(operationName, t.cfg.limits.NameLength)
	if len(opts) <= 1 && !t.cfg.passThrough {
		if parent, ok := leanParent(opts); ok {
			if !validParent(parent) {
				return t.leanRoot(operationName, parent, nil, opts, nil)
			}
			if s := t.leanChild(parent, nil); s != nil {
				return s
			}
		}
	}
	var o startOptions
	o.decode(opts)
	return t.start(operationName, &o, nil)
}

// leanParent reports whether opts are startLean's: none (a root) or one
// reference to a flowtrace context, the parent it returns.
func leanParent(opts []opentracing.StartSpanOption) (*SpanContext, bool) {
	if len(opts) == 0 {
		return nil, true
	}
	var parent *SpanContext
	switch ref := opts[0].(type) {
	case opentracing.SpanReference:
		parent, _ = ref.ReferencedContext.(*SpanContext)
	case childOfOption:
		parent = ref.c
	case followsFromOption:
		parent = ref.c
	}
	return parent, parent != nil
}

// startLean starts, without the general path's option handling and
// decision making, the spans unsampled traffic mostly consists of: a root
// (or a child of a context carrying only baggage) that the sampler leaves
// unsampled, and an unsampled child of an unsampled span of this process
// when the sampler follows the parent. The span has no start options but
// its parent reference. It returns nil, having asked no sampler, for a
// span of another kind; once it has asked the sampler it starts the span
// whatever the decision, by the general path's rules. o is the decoded
// options, or nil: then opts are decoded if a sampled root needs them.
func (t *Tracer) startLean(name string, parent *SpanContext, o *startOptions, opts []opentracing.StartSpanOption, mem SpanMemory) opentracing.Span {
	if validParent(parent) {
		if s := t.leanChild(parent, mem); s != nil {
			return s
		}
		return nil
	}
	return t.leanRoot(name, parent, o, opts, mem)
}

// validParent reports whether parent is a valid context, without copying
// its wire context.
func validParent(parent *SpanContext) bool {
	return parent != nil && parent.wire.SpanID != (propagation.SpanID{}) && parent.wire.TraceID != (propagation.TraceID{})
}

// leanChild is startLean for a valid parent: nil unless the child
// carries the parent's context, as decide would make it (see
// sharesContext) under a sampler that follows the unsampled parent.
func (t *Tracer) leanChild(parent *SpanContext, mem SpanMemory) *nonRecordingSpan {
	if !t.inherits {
		return nil
	}
	// A lean root's own context passes leanChildOf by construction (a
	// new trace, flags random, nothing else); any other is checked.
	r := parent.lean
	own := r != nil && &r.initial == parent
	if !own && !leanChildOf(parent) {
		return nil
	}
	t.notRecorded.Add(1)
	if own && mem == nil && r.child.claim() {
		return &r.child.nonRecordingSpan
	}
	s := newNonRecordingChild(t, mem)
	s.ctx.Store(parent)
	return s
}

// leanRoot is startLean for a root (parent nil or carrying only
// baggage): the sampler decides, as in decide.
func (t *Tracer) leanRoot(name string, parent *SpanContext, o *startOptions, opts []opentracing.StartSpanOption, mem SpanMemory) opentracing.Span {
	tid, sid := t.ids.root()
	params := SamplingParameters{TraceID: tid, Name: name}
	if parent != nil {
		params.Parent = parent.wire
	}
	d := t.cfg.sampler.ShouldSample(params)
	if !d.Sampled {
		// decide's context for it: a new trace, flags random, no
		// tracestate, probability or debug; the parent's baggage.
		t.notRecorded.Add(1)
		var s *nonRecordingRoot
		if mem == nil {
			r := t.roots.New()
			r.initial.lean = r
			r.child.tracer = t
			r.child.ctx.Store(&r.initial)
			s = &r.nonRecordingRoot
			s.tracer = t
		} else {
			s = newNonRecordingRoot(t, mem)
		}
		w := &s.initial.wire
		w.TraceID, w.SpanID, w.Flags = tid, sid, propagation.FlagRandom
		if parent != nil {
			s.initial.baggage = parent.baggage
		}
		s.ctx.Store(&s.initial)
		return &s.nonRecordingSpan
	}
	return t.startLeanSampled(name, parent, o, opts, mem, &params, d)
}

// startLeanSampled is startLean's root once the sampler sampled it: the
// general path's rest.
//
//go:noinline
func (t *Tracer) startLeanSampled(name string, parent *SpanContext, o *startOptions, opts []opentracing.StartSpanOption, mem SpanMemory, params *SamplingParameters, d SamplingDecision) opentracing.Span {
	if o == nil {
		o = new(startOptions)
		o.decode(opts)
	}
	sc := SpanContext{wire: propagation.SpanContext{TraceID: params.TraceID, Flags: propagation.FlagRandom}}
	parentIdx := -1
	if parent != nil {
		sc.baggage = parent.baggage
		parentIdx = 0
	}
	sc, sampled := t.settle(sc, *params, parent, false, o, d)
	return t.startDecided(name, sc, sampled, parent, parentIdx, o, mem)
}

// leanRoot is the memory of an unsampled root startLean starts: the span
// with its context, and a span for its first unsampled child that
// carries the same context (see sharesContext), handed out once.
type leanRoot struct {
	nonRecordingRoot
	child spareSpan
}

// spareSpan is a nonRecordingSpan made ahead of need, taken once.
type spareSpan struct {
	nonRecordingSpan
	taken atomic.Bool
}

// claim reports whether the caller takes the span: true once.
func (s *spareSpan) claim() bool { return !s.taken.Load() && s.taken.CompareAndSwap(false, true) }

// leanChildOf reports whether a child of the valid parent gets the
// parent's context from decide when its sampler follows the parent and
// the child has no start tags: parent is an unsampled span of this
// process, neither deferred nor debug, with no probability, no flags but
// random, and a tracestate that decide keeps as it is (stored size, no
// th to erase).
func leanChildOf(parent *SpanContext) bool {
	w := &parent.wire
	return !parent.remote && w.Flags&^propagation.FlagRandom == 0 && !w.Deferred && !w.Debug && parent.probability == nil &&
		(w.TraceState == "" || keepsTraceState(w.TraceState))
}

// keepsTraceState reports whether decide keeps an unsampled child's
// inherited tracestate ts as it is: no longer than stored, no th.
func keepsTraceState(ts string) bool {
	return len(ts) <= maxStoredTraceState && withThreshold(ts, Threshold{}) == ts
}

// start is StartSpan after decoding; mem, if not nil, gives the memory of
// the span (StartSpanIn).
func (t *Tracer) start(operationName string, o *startOptions, mem SpanMemory) opentracing.Span {
	parent, parentIdx := chooseParent(o.refs.list())

	if t.cfg.passThrough {
		t.notRecorded.Add(1)
		s := newNonRecordingRoot(t, mem)
		if parent != nil {
			s.initial = *parent
			// The caller's context, carried as it is, is now this
			// process's span: a child of it has a local parent.
			s.initial.remote = false
		}
		s.ctx.Store(&s.initial)
		return &s.nonRecordingSpan
	}
	if !o.hasTagsOrLinks() && (parent != nil || o.refs.n == 0) && len(o.refs.list()) <= 1 {
		if s := t.startLean(operationName, parent, o, nil, mem); s != nil {
			return s
		}
	}
	sc, sampled := t.decide(operationName, parent, o)
	return t.startDecided(operationName, sc, sampled, parent, parentIdx, o, mem)
}

// startDecided is start after the decision.
func (t *Tracer) startDecided(operationName string, sc SpanContext, sampled bool, parent *SpanContext, parentIdx int, o *startOptions, mem SpanMemory) opentracing.Span {
	if !sampled || !t.cfg.recording {
		t.notRecorded.Add(1)
		if !sampled && sharesContext(parent, &sc) {
			// An unsampled child of an unsampled span of this process
			// carries its parent's context: nothing records either span,
			// so a span id of its own would name nothing, and the trace
			// id, flags and tracestate downstream are the same. It costs
			// one small allocation and no id; SetBaggageItem gives it a
			// context of its own, as for any span.
			s := newNonRecordingChild(t, mem)
			s.ctx.Store(parent)
			return s
		}
		sc.wire.SpanID = newSpanID()
		s := newNonRecordingRoot(t, mem)
		s.initial = sc
		s.ctx.Store(&s.initial)
		return &s.nonRecordingSpan
	}
	sc.wire.SpanID = newSpanID()
	return t.construct(operationName, sc, parent, parentIdx, o, mem)
}

// startOptions is what StartSpan's options say. Its lists keep their
// first few items inline, so that decoding the usual options (a parent
// reference, a span.kind tag) allocates nothing: a slice of an array in
// the struct itself would move the struct to the heap.
type startOptions struct {
	// rule is set by decide: the sampler's rule when it made the decision
	// of a trace root, for construct's sampler.type and sampler.param.
	rule      *SamplerRule
	refs      smallList[opentracing.SpanReference]
	links     smallList[opentracing.StartSpanOption]
	startTime time.Time
	tags      opentracing.Tags
	// Single Tag options (span.kind, component, ...) that came after the
	// last Tags option; a map is made only for Tags options.
	tagList smallList[opentracing.Tag]
	// room is the AttributeRoom option (0: none).
	room int
}

// hasTagsOrLinks reports whether o has start tags or links.
func (o *startOptions) hasTagsOrLinks() bool {
	return len(o.tags) != 0 || len(o.tagList.list()) != 0 || len(o.links.list()) != 0
}

// decode reads opts into o. Known options are read directly: applying them
// through the interface would move the options struct to the heap on every
// span.
func (o *startOptions) decode(opts []opentracing.StartSpanOption) {
	var generic *opentracing.StartSpanOptions
	for _, opt := range opts {
		switch opt := opt.(type) {
		case opentracing.SpanReference:
			o.refs.add(opt)
		case childOfOption:
			o.refs.add(opentracing.SpanReference{Type: opentracing.ChildOfRef, ReferencedContext: opt.c})
		case followsFromOption:
			o.refs.add(opentracing.SpanReference{Type: opentracing.FollowsFromRef, ReferencedContext: opt.c})
		case opentracing.StartTime:
			o.startTime = time.Time(opt)
		case opentracing.Tags:
			// Keep the options' order: what came before goes in first.
			for _, tag := range o.tagList.list() {
				o.tags = mergeTags(o.tags, opentracing.Tags{tag.Key: tag.Value})
			}
			o.tagList.reset()
			o.tags = mergeTags(o.tags, opt)
		case opentracing.Tag:
			o.tagList.add(opt)
		case linkOption:
			o.links.add(opt)
		case AttributeRoom:
			o.room = int(opt)
		case nil:
		default:
			if generic == nil {
				generic = &opentracing.StartSpanOptions{}
			}
			opt.Apply(generic)
		}
	}
	if generic != nil {
		for _, r := range generic.References {
			o.refs.add(r)
		}
		if !generic.StartTime.IsZero() {
			o.startTime = generic.StartTime
		}
		o.tags = mergeTags(o.tags, generic.Tags)
	}
}

// smallList is an append-only list whose first four items live inline.
type smallList[T any] struct {
	buf  [4]T
	n    int
	more []T // every item, once there are more than len(buf)
}

func (l *smallList[T]) add(v T) {
	if l.more == nil {
		if l.n < len(l.buf) {
			l.buf[l.n] = v
			l.n++
			return
		}
		l.more = make([]T, l.n, 2*len(l.buf))
		copy(l.more, l.buf[:l.n])
	}
	l.more = append(l.more, v)
}

// list returns the items; the slice is valid until the next add or reset.
func (l *smallList[T]) list() []T {
	if l.more != nil {
		return l.more
	}
	return l.buf[:l.n]
}

func (l *smallList[T]) reset() {
	l.n = 0
	if l.more != nil {
		l.more = l.more[:0]
	}
}

// chooseParent picks the parent among refs: the first ChildOf reference to
// a flowtrace context, else the first reference to one. The others become
// links. It returns nil and -1 for a root span.
func chooseParent(refs []opentracing.SpanReference) (*SpanContext, int) {
	var parent *SpanContext
	parentIdx := -1
	for i, r := range refs {
		c, ok := r.ReferencedContext.(*SpanContext)
		if !ok || c == nil {
			continue
		}
		if r.Type == opentracing.ChildOfRef {
			return c, i
		}
		if parent == nil {
			parent, parentIdx = c, i
		}
	}
	return parent, parentIdx
}

// decide makes the new span's context: it inherits the parent's trace,
// asks the sampler, applies debug and sampling.priority, and makes the
// tracestate's th say what kept the span. It reports whether the span is
// sampled.
func (t *Tracer) decide(name string, parent *SpanContext, o *startOptions) (SpanContext, bool) {
	sc := SpanContext{}
	var parentWire propagation.SpanContext
	remote := false
	if parent != nil {
		sc.baggage = parent.baggage
		parentWire = parent.wire
		if parent.wire.IsValid() {
			sc.wire.TraceID = parent.wire.TraceID
			sc.wire.TraceState = parent.wire.TraceState
			// Only the flags this version knows travel on: W3C asks senders to
			// zero the others.
			sc.wire.Flags = parent.wire.Flags & (propagation.FlagSampled | propagation.FlagRandom)
			// A caller's debug request holds for the whole trace; a deferred
			// decision is made here, so the child is not deferred.
			sc.wire.Debug = parent.wire.Debug
			sc.probability = parent.probability
			remote = parent.remote
		}
	}
	if !sc.wire.TraceID.IsValid() {
		sc.wire.TraceID = newTraceID()
		sc.wire.Flags = propagation.FlagRandom
	}
	// The span id is drawn by the caller once it knows it needs one: the
	// sampler does not see it.
	params := SamplingParameters{TraceID: sc.wire.TraceID, Name: name, Parent: parentWire, ParentRemote: remote}
	return t.settle(sc, params, parent, remote, o, t.cfg.sampler.ShouldSample(params))
}

// settle is decide after the sampler's decision: sc is the context
// inherited (trace id, flags, tracestate, debug, probability, baggage),
// params what the sampler was asked.
func (t *Tracer) settle(sc SpanContext, params SamplingParameters, parent *SpanContext, remote bool, o *startOptions, decision SamplingDecision) (SpanContext, bool) {
	parentWire := params.Parent
	if sc.wire.Debug {
		// Debug (B3 d, X-B3-Flags: 1, Jaeger flags 3) is forced sampling,
		// the same as sampling.priority=1; the span's own priority tag below
		// can still turn it off.
		decision = applyPriority(decision, 1)
	}
	if p, ok := o.tags[string(samplingPriority)]; ok {
		decision = applyPriority(decision, p)
	}
	for _, tag := range o.tagList.list() {
		if tag.Key == string(samplingPriority) {
			decision = applyPriority(decision, tag.Value)
		}
	}
	if parent == nil || !parent.wire.IsValid() || parent.wire.Deferred {
		// Where the trace's decision is made (applyPriority drops the rule
		// of a forced one).
		o.rule = decision.Rule
	}
	if decision.Sampled {
		sc.wire.Flags |= propagation.FlagSampled
	} else {
		sc.wire.Flags &^= propagation.FlagSampled
		sc.wire.Debug = false // debug implies sampled
	}
	// The tracestate's th must say what kept this span, or nothing.
	switch {
	case !decision.Sampled:
		sc.probability = nil
		sc.wire.TraceState = withThreshold(sc.wire.TraceState, Threshold{})
	case !math.IsNaN(decision.Probability):
		sc.probability = boxProbability(decision.Probability)
		sc.wire.TraceState = withThreshold(sc.wire.TraceState, decision.Threshold)
	case remote:
		// The decision was the caller's: take its probability from the
		// tracestate it sent, if that th is consistent with the decision.
		params := SamplingParameters{TraceID: sc.wire.TraceID, Parent: parentWire}
		if th, ok := inheritedThreshold(sc.wire.TraceState, true, params.Randomness()); ok {
			sc.probability = boxProbability(th.Probability())
		} else {
			sc.wire.TraceState = withThreshold(sc.wire.TraceState, Threshold{})
		}
	}

	// Store only what Inject would send: a caller's tracestate can hold
	// 32 members of 256-byte values.
	if len(sc.wire.TraceState) > maxStoredTraceState {
		sc.wire.TraceState = propagation.TruncateTraceState(sc.wire.TraceState)
	}
	return sc, decision.Sampled
}

// sharesContext reports whether an unsampled span whose decided context
// is sc (span id not yet drawn) may carry parent's context itself: parent
// is an unsampled span of this process and the decision changed nothing
// else (same trace, flags and tracestate, no probability, no debug).
func sharesContext(parent, sc *SpanContext) bool {
	return parent != nil && !parent.remote && parent.wire.IsValid() && !parent.wire.IsSampled() &&
		!parent.wire.Deferred && !parent.wire.Debug && parent.probability == nil &&
		sc.probability == nil && !sc.wire.Debug &&
		sc.wire.Flags == parent.wire.Flags && sc.wire.TraceState == parent.wire.TraceState
}

// construct makes the recording span for a sampled context sc: its data,
// the tracer's own tags, links and the caller's tags.
func (t *Tracer) construct(name string, sc SpanContext, parent *SpanContext, parentIdx int, o *startOptions, mem SpanMemory) *Span {
	t.sampled.Add(1)
	startTime := o.startTime
	if startTime.IsZero() {
		startTime = time.Now()
	}
	s := recordingMemory(mem)
	if s != nil {
		// In the caller's memory (StartSpanIn).
	} else if o.room > len(spanLarge{}.attrs) {
		wide := &spanWide{}
		s = &wide.Span
		s.data.Attributes = wide.attrs[:0]
		s.eventBuf = &wide.events
	} else if parentIdx >= 0 && parent.wire.IsValid() && !parent.remote && len(o.tags) == 0 && len(o.tagList.list()) == 0 {
		small := &spanSmall{}
		s = &small.Span
		s.data.Attributes = small.attrs[:0]
	} else {
		large := &spanLarge{}
		s = &large.Span
		s.data.Attributes = large.attrs[:0]
		s.eventBuf = &large.events
	}
	s.tracer = t
	s.initial = sc
	s.ctx.Store(&s.initial)
	s.data.SpanContext = sc.wire
	s.data.Name = name
	s.data.Start = startTime
	s.data.Kind = KindInternal
	if parentIdx >= 0 && parent.wire.IsValid() {
		s.data.ParentSpanID = parent.wire.SpanID
	}
	if sc.probability != nil {
		s.setTagLocked(SamplingProbabilityKey, sc.probability, true)
	}
	if r := o.rule; r != nil {
		// Appended as they are: the span has no tag of these keys yet, and
		// the values (a string and a float64) need no normalising.
		s.data.Attributes = appendAttribute(s.data.Attributes, Attribute{Key: SamplerTypeKey, Value: r.typ})
		s.data.Attributes = appendAttribute(s.data.Attributes, Attribute{Key: SamplerParamKey, Value: r.param})
		s.keyLens |= keyBit(SamplerTypeKey) | keyBit(SamplerParamKey)
		s.ownAttrs += 2
	}
	// Values of these keys were validated where they entered the baggage
	// (Extract, SetBaggageItem).
	for _, key := range t.cfg.baggageTag {
		if v, ok := sc.baggage.Get(key); ok {
			s.setTagLocked(key, s.normalize(v), true)
		}
	}
	for i, r := range o.refs.list() {
		if i == parentIdx {
			continue
		}
		if c, ok := r.ReferencedContext.(*SpanContext); ok && c != nil && c.wire.IsValid() {
			s.addLink(c.wire, refTypeName(r.Type))
		}
	}
	for _, l := range o.links.list() {
		if c, ok := l.(linkOption).ctx.(*SpanContext); ok && c != nil && c.wire.IsValid() {
			s.addLink(c.wire, "link")
		}
	}
	// Values are normalised first, as SetTag does: the policy then never
	// sees (or calls) the caller's Stringers.
	for k, v := range o.tags {
		s.setUserTagLocked(k, s.normalize(v))
	}
	for _, tag := range o.tagList.list() {
		s.setUserTagLocked(tag.Key, s.normalize(tag.Value))
	}
	return s
}

func mergeTags(dst, src opentracing.Tags) opentracing.Tags {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(opentracing.Tags, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func refTypeName(t opentracing.SpanReferenceType) string {
	if t == opentracing.FollowsFromRef {
		return "follows_from"
	}
	return "child_of"
}

// priorityWantsSampling applies OpenTracing's sampling.priority tag: 0 asks
// for no sampling, anything above asks for sampling.
func priorityWantsSampling(v any, current bool) bool {
	switch p := v.(type) {
	case int:
		return p > 0
	case int32:
		return p > 0
	case int64:
		return p > 0
	case uint16:
		return p > 0
	case uint32:
		return p > 0
	case uint64:
		return p > 0
	}
	return current
}

// Inject implements opentracing.Tracer. TextMap and HTTPHeaders carriers use
// the configured propagator; Binary uses a compact length-prefixed encoding.
func (t *Tracer) Inject(sm opentracing.SpanContext, format any, carrier any) error {
	sc, ok := sm.(*SpanContext)
	if !ok || sc == nil {
		return opentracing.ErrInvalidSpanContext
	}
	switch format {
	case opentracing.HTTPHeaders, opentracing.TextMap:
		c, err := carrierFor(carrier)
		if err != nil {
			return err
		}
		t.cfg.propagator.Inject(sc.state(), c)
		return nil
	case opentracing.Binary:
		w, ok := carrier.(io.Writer)
		if !ok {
			return opentracing.ErrInvalidCarrier
		}
		return writeBinary(w, sc)
	}
	return opentracing.ErrUnsupportedFormat
}

// Extract implements opentracing.Tracer. A carrier with baggage (a flow id)
// but no valid trace context yields a context that only carries baggage:
// a span started as its child begins a new trace with that baggage.
func (t *Tracer) Extract(format any, carrier any) (opentracing.SpanContext, error) {
	var st propagation.State
	var x *contextWithItem // the context, with room for one baggage member
	switch format {
	case opentracing.HTTPHeaders, opentracing.TextMap:
		c, err := carrierFor(carrier)
		if err != nil {
			return nil, err
		}
		x = extractRoom.Get().(*contextWithItem)
		st = t.cfg.propagator.Extract(c, propagation.State{Baggage: propagation.BaggageRoom(x.item[:])})
	case opentracing.Binary:
		r, ok := carrier.(io.Reader)
		if !ok {
			return nil, opentracing.ErrInvalidCarrier
		}
		var err error
		if st, err = readBinary(r); err != nil {
			return nil, err
		}
	default:
		return nil, opentracing.ErrUnsupportedFormat
	}
	st.Baggage = t.validBaggage(st.Baggage)
	if st.Baggage.Len() == 0 && x != nil {
		// Nothing went into the room: it serves the next Extract.
		st.Baggage, *x = propagation.Baggage{}, contextWithItem{}
		extractRoom.Put(x)
		x = nil
	}
	if !st.SpanContext.IsValid() {
		st.SpanContext = propagation.SpanContext{}
		if st.Baggage.Len() == 0 {
			return nil, opentracing.ErrSpanContextNotFound
		}
	}
	sc := SpanContext{wire: st.SpanContext, baggage: st.Baggage, remote: st.SpanContext.IsValid()}
	if x == nil {
		return new(sc), nil
	}
	x.ctx = sc // with its first baggage member: one allocation
	return &x.ctx, nil
}

// extractRoom recycles the contexts Extract found nothing for.
var extractRoom = sync.Pool{New: func() any { return new(contextWithItem) }}

// validBaggage removes the members of the WithBaggageTags keys whose values
// fail the validator, counting each.
func (t *Tracer) validBaggage(b propagation.Baggage) propagation.Baggage {
	if b.Len() == 0 {
		return b
	}
	for _, key := range t.cfg.baggageTag {
		if v, ok := b.Get(key); ok && !t.cfg.baggageValid(key, v) {
			b = b.Without(key)
			t.baggageDropped.Add(1)
		}
	}
	return b
}

// isBaggageTag reports whether key is one of the WithBaggageTags keys.
func (t *Tracer) isBaggageTag(key string) bool {
	for _, k := range t.cfg.baggageTag {
		if k == key {
			return true
		}
	}
	return false
}

func carrierFor(carrier any) (propagation.Carrier, error) {
	c, ok := propagation.TextMapCarrier(carrier)
	if !ok {
		return nil, opentracing.ErrInvalidCarrier
	}
	return c, nil
}

type noopProcessor struct{}

func (noopProcessor) OnEnd(*SpanData)                  {}
func (noopProcessor) ForceFlush(context.Context) error { return nil }
func (noopProcessor) Shutdown(context.Context) error   { return nil }

var (
	errBinaryCorrupt       = errors.New("flowtrace: corrupt binary span context")
	errSpanContextNotFound = opentracing.ErrSpanContextNotFound
)

var probabilityOne any = 1.0

// boxProbability avoids an allocation per trace for the common always-on case.
func boxProbability(p float64) any {
	if p == 1 {
		return probabilityOne
	}
	return p
}
