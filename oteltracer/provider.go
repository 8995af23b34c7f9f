package oteltracer

import (
	"context"
	"sync"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"

	"github.com/flowtrace/flowtrace/internal/blocks"
	"github.com/flowtrace/flowtrace/tracer"
)

// Provider is an OpenTelemetry trace.TracerProvider whose spans are
// flowtrace's tracer's spans.
type Provider struct {
	embedded.TracerProvider

	t       *tracer.Tracer
	tracers sync.Map // scopeKey -> *Tracer
	// unsampled cuts unsampled spans from blocks of 8.
	unsampled blocks.Cutter[unsampledSpan]
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

// sampledSpan is a recording span started through this API: the context
// Start returns, the OpenTelemetry view and the tracer's span are one
// allocation, as an OpenTracing StartSpan is.
type sampledSpan struct {
	spanCtx
	rec tracer.RecordingSpan
}

// unsampledSpan is the same for an unsampled span.
type unsampledSpan struct {
	spanCtx
	nr tracer.NonRecordingSpan
}

// Start implements trace.Tracer: the span is started by flowtrace's tracer
// as the child of the current span of ctx, whichever API started that.
func (tr *Tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	st := tracer.SpanStart{
		// Exported as the span's OTLP scope, not as attributes.
		Scope: tracer.Scope{Name: tr.name, Version: tr.version},
	}
	var attrs []attribute.KeyValue
	if len(opts) == 0 {
		// The options are opaque functions; with none, their zero
		// configuration (an internal child of the current span, now) is
		// known without building it.
		st.Parent = tr.p.parentOf(ctx)
	} else {
		attrs = tr.applyConfig(ctx, &st, trace.NewSpanStartConfig(opts...))
	}
	var n *spanCtx
	ot := tr.p.t.StartSpanIn(name, &st, func(recording bool) (*tracer.RecordingSpan, *tracer.NonRecordingSpan) {
		if recording {
			s := &sampledSpan{}
			n = &s.spanCtx
			return &s.rec, nil
		}
		u := tr.p.unsampled.New()
		n = &u.spanCtx
		return nil, &u.nr
	})
	if n == nil {
		n = &spanCtx{}
	}
	// Field by field: the memory is new (zero), and assigning a whole
	// span would clear it again, with write barriers while the garbage
	// collector marks.
	n.Context = ctx
	n.sp.ot = ot
	n.sp.tracer = tr
	if len(attrs) > 0 {
		// Only a recording span pays for its attributes.
		if rs, ok := ot.(*tracer.Span); ok {
			setAttributes(rs, attrs)
		}
	}
	if otelSpanKey == nil || otSpanKey == nil {
		// The probe failed (a future API release): the plain way.
		return opentracing.ContextWithSpan(trace.ContextWithSpan(ctx, &n.sp), ot), &n.sp
	}
	return n, &n.sp
}

// applyConfig sets what cfg says in st (time, kind, parent, links) and
// returns the attributes it gives.
func (tr *Tracer) applyConfig(ctx context.Context, st *tracer.SpanStart, cfg trace.SpanConfig) []attribute.KeyValue {
	st.StartTime = cfg.Timestamp()
	st.Kind = kindOf(cfg.SpanKind())
	if cfg.NewRoot() {
		// A new trace keeps the request's baggage (the flow id).
		if pc := tr.p.parentOf(ctx); pc != nil && pc.Baggage().Len() > 0 {
			st.Parent = tr.p.t.RemoteContext(stateBaggageOnly(pc))
		}
	} else {
		st.Parent = tr.p.parentOf(ctx)
	}
	if links := cfg.Links(); len(links) > 0 {
		st.Links = make([]*tracer.SpanContext, 0, len(links))
		for _, l := range links {
			if l.SpanContext.IsValid() {
				st.Links = append(st.Links, tr.p.t.RemoteContext(stateOf(l.SpanContext)))
			}
		}
	}
	return cfg.Attributes()
}

func kindOf(k trace.SpanKind) tracer.SpanKind {
	switch k {
	case trace.SpanKindServer:
		return tracer.KindServer
	case trace.SpanKindClient:
		return tracer.KindClient
	case trace.SpanKindProducer:
		return tracer.KindProducer
	case trace.SpanKindConsumer:
		return tracer.KindConsumer
	}
	return tracer.KindInternal
}
