package oteltracer

import (
	"context"
	"sync"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/flowtrace/flowtrace/tracer"
)

// Provider is an OpenTelemetry trace.TracerProvider whose spans are
// flowtrace's tracer's spans.
type Provider struct {
	embedded.TracerProvider

	t       *tracer.Tracer
	tracers sync.Map // scopeKey -> *Tracer
}

var _ trace.TracerProvider = (*Provider)(nil)

type scopeKey struct{ name, version string }

// NewProvider returns the OpenTelemetry API of t, and makes t's
// OpenTracing spans, put in a context with opentracing.ContextWithSpan,
// the current OpenTelemetry span of that context too (t's context hook).
func NewProvider(t *tracer.Tracer) *Provider {
	p := &Provider{t: t}
	t.SetContextHook(p.contextWithSpan)
	return p
}

// Tracer implements trace.TracerProvider. Tracers are kept per scope name
// and version, so instrumentation that asks on every request gets the same
// one without allocating.
func (p *Provider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	cfg := trace.NewTracerConfig(opts...)
	key := scopeKey{name, cfg.InstrumentationVersion()}
	if tr, ok := p.tracers.Load(key); ok {
		return tr.(*Tracer)
	}
	tr, _ := p.tracers.LoadOrStore(key, &Tracer{p: p, name: key.name, version: key.version})
	return tr.(*Tracer)
}

// defaultTracer is the Tracer of OpenTracing spans seen through the
// OpenTelemetry API: no scope of their own.
func (p *Provider) defaultTracer() *Tracer { return p.Tracer("").(*Tracer) }

// Tracer is an OpenTelemetry trace.Tracer for one instrumentation scope.
type Tracer struct {
	embedded.Tracer

	p             *Provider
	name, version string
}

var _ trace.Tracer = (*Tracer)(nil)

// Start implements trace.Tracer: the span is started by flowtrace's tracer
// as the child of the current span of ctx, whichever API started that.
func (tr *Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := trace.NewSpanStartConfig(opts...)
	var parent *tracer.SpanContext
	if cfg.NewRoot() {
		// A new trace keeps the request's baggage (the flow id).
		if pc := tr.p.parentOf(ctx); pc != nil && pc.Baggage().Len() > 0 {
			parent = tr.p.t.RemoteContext(stateBaggageOnly(pc))
		}
	} else {
		parent = tr.p.parentOf(ctx)
	}
	var otOpts [4]opentracing.StartSpanOption
	o := otOpts[:0]
	if parent != nil {
		o = append(o, opentracing.ChildOf(parent))
	}
	if ts := cfg.Timestamp(); !ts.IsZero() {
		o = append(o, opentracing.StartTime(ts))
	}
	for _, l := range cfg.Links() {
		if l.SpanContext.IsValid() {
			o = append(o, tracer.LinkTo(tr.p.t.RemoteContext(stateOf(l.SpanContext))))
		}
	}
	ot := tr.p.t.StartSpan(name, o...)
	n := &spanCtx{Context: ctx, sp: span{ot: ot, tracer: tr}}
	if rs, ok := ot.(*tracer.Span); ok {
		// Only a recording span pays for its attributes.
		if k := kindName(cfg.SpanKind()); k != "" {
			rs.SetTag("span.kind", k)
		}
		if tr.name != "" {
			// Exported as the span's OTLP scope, not as attributes.
			rs.SetScope(tr.name, tr.version)
		}
		setAttributes(rs, cfg.Attributes())
	}
	if otelSpanKey == nil || otSpanKey == nil {
		// The probe failed (a future API release): the plain way.
		return opentracing.ContextWithSpan(trace.ContextWithSpan(ctx, &n.sp), ot), &n.sp
	}
	return n, &n.sp
}

func kindName(k trace.SpanKind) string {
	switch k {
	case trace.SpanKindServer:
		return "server"
	case trace.SpanKindClient:
		return "client"
	case trace.SpanKindProducer:
		return "producer"
	case trace.SpanKindConsumer:
		return "consumer"
	}
	return "" // internal is the tracer's default
}
