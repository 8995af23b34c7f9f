package instr

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
	"github.com/flowtrace/flowtrace/tracer"
)

// Own reports whether tr is flowtrace's tracer, which tags its flow_id,
// critical_operation and traffic_source baggage itself, reads carriers key
// by key and records links.
func Own(tr opentracing.Tracer) bool {
	_, ok := tr.(*tracer.Tracer)
	return ok
}

// Recording reports whether tags set on sp are kept: false for flowtrace's
// unsampled spans, true for any other tracer's.
func Recording(sp opentracing.Span) bool {
	if sc, ok := sp.Context().(*tracer.SpanContext); ok {
		return sc.IsSampled()
	}
	return true
}

// ValidContext reports whether sc, an extracted context, identifies a span
// rather than carrying only baggage. Other tracers' contexts count as valid
// when Extract returned one.
func ValidContext(sc opentracing.SpanContext) bool {
	if sc == nil {
		return false
	}
	if fsc, ok := sc.(*tracer.SpanContext); ok {
		return fsc.IsValid()
	}
	return true
}

// Carrier is what the engine reads and writes of a transport's carrier
// beyond the tracer's formats: the flow-id key.
type Carrier interface {
	Values(key string) []string
	Set(key, value string)
}

// Engine is the configuration one middleware instance shares between its
// server and client sides. It is not changed after construction.
type Engine struct {
	// Tracer is the configured tracer; nil means opentracing.GlobalTracer(),
	// read on every call so that one installed later is used.
	Tracer opentracing.Tracer
	// Public marks a server as a trust boundary.
	Public bool
	// Limit caps forced sampling per critical operation (nil: no cap).
	Limit *tokenbucket.Limiter
	// Format is the OpenTracing format of the transport's carrier
	// (opentracing.HTTPHeaders or opentracing.TextMap).
	Format any
	// FlowKey is the carrier key of the flow id, in the spelling the
	// carrier stores (X-Flow-Id in an http.Header, x-flow-id in metadata).
	FlowKey string
	// Semconv is the OTEL_SEMCONV_STABILITY_OPT_IN switch, read when the
	// middleware is built (ReadSemconv): which vocabulary the transport's
	// tags use (see package semconv/stability).
	Semconv stability.OptIn
	// Logger is the transport's WithLogger (nil: see Log).
	Logger *slog.Logger
}

// Set stores v in *dst unless v is nil: the options of every transport that
// take a function, a tracer or a logger ignore a nil one, keeping the default
// or what an earlier option set.
func Set[T any](dst *T, v T) {
	if !reflect.ValueOf(&v).Elem().IsZero() {
		*dst = v
	}
}

// Apply runs apply on each option of opts that is not nil, in order: every
// middleware's (and kafkaconsume's) option loop.
func Apply[O comparable](opts []O, apply func(O)) {
	var none O
	for _, o := range opts {
		if o != none {
			apply(o)
		}
	}
}

// Configure builds a transport's configuration: it applies opts (Apply),
// gives a public endpoint without a traffic-source rule the transport's
// default, def (the rule is bound once, not per request), then reads the
// vocabulary (ReadSemconv).
func Configure[O comparable, F any](e *Engine, opts []O, apply func(O), traffic *F, def F) {
	Apply(opts, apply)
	if e.Public && reflect.ValueOf(traffic).Elem().IsZero() {
		*traffic = def
	}
	e.ReadSemconv()
}

// MaxCached bounds a Cache.
const MaxCached = 1024

// Cache maps a name a transport meets on every request (a route, a
// ServeMux pattern, a gRPC method) to what it derives from it once: span
// names, tag values boxed once. It keeps at most MaxCached names, so that
// names from the wire, or a rule returning unbounded values, cost a build
// per request once it is full, never memory. The zero value is ready; it
// is safe for concurrent use.
type Cache[V any] struct {
	m sync.Map // string -> V
	n atomic.Int64
}

// Get returns the value of key, made by build on a miss.
func (c *Cache[V]) Get(key string, build func(string) V) V {
	if v, ok := c.m.Load(key); ok {
		return v.(V)
	}
	v := build(key)
	if c.n.Load() < MaxCached {
		if old, loaded := c.m.LoadOrStore(key, v); loaded {
			return old.(V)
		}
		c.n.Add(1)
	}
	return v
}

// Bind returns the rule f applied to a, as Inbound and Outbound take it;
// nil when f is nil (no rule).
func Bind[A any](f func(A) string, a A) func() string {
	if f == nil {
		return nil
	}
	return func() string { return f(a) }
}

// ReadSemconv sets Semconv from the environment once the middleware's
// options are applied, so that an unknown token is warned about (once per
// process) through the middleware's logger (Log).
func (e *Engine) ReadSemconv() { e.Semconv = stability.FromEnvTo(e.Log()) }

// Log returns the logger of the middleware: its WithLogger, else its
// flowtrace tracer's (the one flowtrace.Start threads through), else
// sdklog.Default().
func (e *Engine) Log() *slog.Logger { return Logger(e.Logger, e.TracerFor()) }

// TracerFor returns the tracer of a call.
func (e *Engine) TracerFor() opentracing.Tracer {
	if e.Tracer != nil {
		return e.Tracer
	}
	return opentracing.GlobalTracer()
}

// Extract reads the trace context and baggage of carrier through tr's
// propagators; nil when there is none or it is broken.
func (e *Engine) Extract(tr opentracing.Tracer, carrier any) opentracing.SpanContext {
	sc, err := tr.Extract(e.Format, carrier)
	if err != nil {
		return nil
	}
	return sc
}

// Inbound describes a request, call or message arriving.
type Inbound struct {
	Name string
	// Kind is the span.kind start option (nil: none at start).
	Kind opentracing.StartSpanOption
	// Incoming is what Extract returned (nil: nothing).
	Incoming opentracing.SpanContext
	// FlowIDs are the raw values of the carrier's flow-id key.
	FlowIDs []string
	// Follows makes the span follow from the incoming context instead of
	// being its child (a consumed message).
	Follows bool
	// LinkOnly links the span to the incoming context instead of making it
	// the parent, as a public endpoint does, but keeps trusting the
	// incoming flow id.
	LinkOnly bool
	// Critical and Traffic are the transport's rules for this request
	// (nil: none). They run only when the decision needs them.
	Critical, Traffic func() string
	Room              int // the tags the span gets (tracer.AttributeRoom)
}

// Started is what StartInbound returns.
type Started struct {
	Span opentracing.Span
	// Ctx holds the span and the flow id.
	Ctx    context.Context
	FlowID string
	// Recording says whether tags set on Span are kept.
	Recording bool
	// InvalidFlowID says that an incoming flow id was invalid.
	InvalidFlowID bool
}

// StartInbound makes the routing decision, starts the span, resolves the
// flow id (see package middleware's doc) and records all of it on the span.
func (e *Engine) StartInbound(ctx context.Context, tr opentracing.Tracer, in *Inbound) Started {
	var routing Decision
	if e.Public || in.Critical != nil || in.Traffic != nil {
		rules := Rules{Public: e.Public, Critical: in.Critical, Limit: e.Limit, Traffic: in.Traffic}
		routing = rules.Decide(in.Incoming)
	}
	var buf [4]opentracing.StartSpanOption
	opts := buf[:0]
	if in.Kind != nil {
		opts = append(opts, in.Kind)
	}
	link := e.Public || in.LinkOnly
	switch {
	case in.Incoming == nil:
	case link:
		if ValidContext(in.Incoming) {
			opts = append(opts, tracer.LinkTo(in.Incoming))
		}
	case in.Follows:
		opts = append(opts, tracer.Reference(opentracing.FollowsFromRef, in.Incoming))
	default:
		opts = append(opts, tracer.Reference(opentracing.ChildOfRef, in.Incoming))
	}
	if routing.Force {
		opts = append(opts, ForceSampling)
	}
	opts = append(opts, tracer.AttributeRoom(in.Room))
	sp := startSpan(tr, in.Name, opts)
	st := Started{Span: sp, Recording: Recording(sp)}

	var bag string
	switch {
	case e.Public:
	case link && in.Incoming != nil:
		bag = baggageFlowID(in.Incoming)
	default:
		bag = sp.BaggageItem(flowid.BaggageKey) // inherited from Incoming
	}
	res := Incoming(in.FlowIDs, bag, e.Public)
	st.FlowID, st.InvalidFlowID = res.ID, res.Invalid != ""
	SetFlowID(tr, sp, res.ID)
	if res.Incoming != "" {
		semconv.FlowIDIncoming.Set(sp, res.Incoming)
	}
	if res.Invalid != "" {
		semconv.FlowIDInvalid.Set(sp, res.Invalid)
	}
	routing.Own.Apply(sp)
	if st.Recording && !e.Public {
		TagFromBaggage(sp)
	}

	ctx = opentracing.ContextWithSpan(ctx, sp)
	if sp.BaggageItem(flowid.BaggageKey) != res.ID {
		// flowid.FromContext reads the span's baggage; only a tracer
		// without baggage (the no-op one) needs the id in the context.
		ctx = flowid.ContextWith(ctx, res.ID)
	}
	st.Ctx = ctx
	return st
}

// startSpan starts a span with opts, a slice of the caller's stack array:
// flowtrace's StartSpan keeps none of it, so called directly it lets the
// array stay on the stack; through the interface the compiler must assume
// the slice escapes, so other tracers get a heap copy.
func startSpan(tr opentracing.Tracer, name string, opts []opentracing.StartSpanOption) opentracing.Span {
	if t, ok := tr.(*tracer.Tracer); ok {
		return t.StartSpan(name, opts...)
	}
	return tr.StartSpan(name, append([]opentracing.StartSpanOption(nil), opts...)...)
}

// baggageFlowID returns the flow_id baggage item of sc (not nil), or "".
func baggageFlowID(sc opentracing.SpanContext) string {
	var id string
	sc.ForeachBaggageItem(func(k, v string) bool {
		if k == flowid.BaggageKey {
			id = v
			return false
		}
		return true
	})
	return id
}

// Outbound describes a request, call or message leaving.
type Outbound struct {
	Name string
	// Kind is the span.kind start option (nil: none at start).
	Kind opentracing.StartSpanOption
	// Critical is the client's critical-operation rule (nil: none), for a
	// caller whose context carries no critical operation yet.
	Critical func() string
	Room     int // the tags the span gets (tracer.AttributeRoom)
}

// StartOutbound starts the span of an outgoing request: child of the span
// in ctx (none: a new trace), forced into sampling when the client's own
// critical-operation rule names one, and tagged with the routing it carries.
func (e *Engine) StartOutbound(ctx context.Context, tr opentracing.Tracer, out *Outbound) opentracing.Span {
	var buf [4]opentracing.StartSpanOption
	opts := buf[:0]
	if out.Kind != nil {
		opts = append(opts, out.Kind)
	}
	var parent opentracing.SpanContext
	if sp := opentracing.SpanFromContext(ctx); sp != nil {
		parent = sp.Context()
		opts = append(opts, tracer.Reference(opentracing.ChildOfRef, parent))
	}
	var routing Decision
	if out.Critical != nil {
		rules := Rules{Critical: out.Critical, Limit: e.Limit}
		if routing = rules.Decide(parent); routing.Force {
			opts = append(opts, ForceSampling)
		}
	}
	opts = append(opts, tracer.AttributeRoom(out.Room))
	sp := startSpan(tr, out.Name, opts)
	routing.Own.Apply(sp)
	TagFromBaggage(sp)
	return sp
}

// Inject settles the flow id of an outgoing span (see package middleware's
// doc), writes sp's context through tr's propagators into carrier, then the
// flow id into flow's flow-id key.
func (e *Engine) Inject(ctx context.Context, tr opentracing.Tracer, sp opentracing.Span, carrier any, flow Carrier) {
	fid := Outgoing(flowid.FromContext(ctx), sp.BaggageItem(flowid.BaggageKey), flow.Values(e.FlowKey))
	SetFlowID(tr, sp, fid)
	_ = tr.Inject(sp.Context(), e.Format, carrier)
	writeFlowID(flow, e.FlowKey, fid)
}

// SetFlowID makes fid the flow_id baggage item of sp, started by tr, and,
// for tracers other than flowtrace's (which tags that item itself), its
// flow_id tag.
func SetFlowID(tr opentracing.Tracer, sp opentracing.Span, fid string) {
	if sp.BaggageItem(flowid.BaggageKey) != fid {
		sp.SetBaggageItem(flowid.BaggageKey, fid)
	}
	if !Own(tr) {
		semconv.FlowID.Set(sp, fid)
	}
}

func writeFlowID(flow Carrier, key, fid string) {
	// The tracer's flowid propagator may have written it already.
	if v := flow.Values(key); len(v) != 1 || v[0] != fid {
		flow.Set(key, fid)
	}
}

// PropagateOnly passes the caller's trace context (through the tracer of
// the span in ctx) and flow id on, for a filtered outgoing call.
func (e *Engine) PropagateOnly(ctx context.Context, carrier any, flow Carrier) {
	if parent := opentracing.SpanFromContext(ctx); parent != nil {
		_ = parent.Tracer().Inject(parent.Context(), e.Format, carrier)
	}
	if fid := flowid.FromContext(ctx); flowid.Valid(fid) {
		writeFlowID(flow, e.FlowKey, fid)
	}
}

// HasOutbound reports whether PropagateOnly would write anything for ctx,
// so that a transport copies its carrier only when needed.
func HasOutbound(ctx context.Context) bool {
	return opentracing.SpanFromContext(ctx) != nil || flowid.Valid(flowid.FromContext(ctx))
}

// Untraced returns the flow id of a filtered inbound request: the single
// valid incoming value (not at a public endpoint), else a new one.
func (e *Engine) Untraced(flowIDs []string) string {
	if !e.Public && len(flowIDs) == 1 && flowid.Valid(flowIDs[0]) {
		return flowIDs[0]
	}
	return flowid.New()
}

// Span kinds as start options, boxed once: converting ext's Tag values to
// an interface on every call would allocate.
var (
	KindServer   opentracing.StartSpanOption = ext.SpanKindRPCServer
	KindClient   opentracing.StartSpanOption = ext.SpanKindRPCClient
	KindProducer opentracing.StartSpanOption = ext.SpanKindProducer
	KindConsumer opentracing.StartSpanOption = ext.SpanKindConsumer
)

// uncounted takes the counts of tracers other than flowtrace's, which have
// no edge counters: nobody reads it.
var uncounted tracer.EdgeCounters

// Counters returns the edge counters of tr: flowtrace's tracer keeps them
// per tracer (Tracing.Stats reports them); other tracers' are not kept.
func Counters(tr opentracing.Tracer) *tracer.EdgeCounters {
	if t, ok := tr.(*tracer.Tracer); ok {
		return t.Edge()
	}
	return &uncounted
}

// Logger returns l when set, else the logger of tr when it is flowtrace's
// (the one flowtrace.Start configured), else sdklog.Default().
func Logger(l *slog.Logger, tr opentracing.Tracer) *slog.Logger {
	switch {
	case l != nil:
		return l
	case tr != nil:
		if t, ok := tr.(*tracer.Tracer); ok {
			return t.Logger()
		}
	}
	return sdklog.Default()
}
