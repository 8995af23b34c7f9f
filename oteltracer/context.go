package oteltracer

import (
	"context"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// The context keys of the two APIs are private to their packages; a probe
// context learns them by being asked. With them one context value answers
// both APIs, so a span costs one context allocation whichever API starts
// it.
var otelSpanKey, otSpanKey, otelBaggageKey = probeKeys()

// background and todo are the contexts that hold no value.
var background, todo = context.Background(), context.TODO()

type probe struct {
	context.Context
	key any
}

func (p *probe) Value(key any) any {
	p.key = key
	return nil
}

func probeKeys() (otelSpan, otSpan, otelBaggage any) {
	p := &probe{Context: context.Background()}
	_ = trace.SpanFromContext(p)
	otelSpan = p.key
	p.key = nil
	_ = opentracing.SpanFromContext(p)
	otSpan = p.key
	p.key = nil
	_ = baggage.FromContext(p)
	otelBaggage = p.key
	return otelSpan, otSpan, otelBaggage
}

// spanCtx is the context a span is current in, for both APIs: one
// allocation holds the context and the OpenTelemetry view of the span.
type spanCtx struct {
	context.Context
	sp span
}

func (c *spanCtx) Value(key any) any {
	if key == nil {
		return c.Context.Value(key)
	}
	switch key {
	case otelSpanKey:
		return &c.sp
	case otSpanKey:
		if c.sp.ot != nil {
			return c.sp.ot
		}
		if c.sp.remote != nil {
			// A remote context (propagator Extract): the caller's span.
			return (*remoteSpan)(&c.sp)
		}
		return nil
	case otelBaggageKey:
		return c.baggageValue()
	}
	return c.Context.Value(key)
}

// baggageValue builds, when asked, the OpenTelemetry baggage of the
// context: what was set above it, overlaid with the span's baggage.
func (c *spanCtx) baggageValue() any {
	sc := c.sp.flowtraceContext()
	if sc == nil || sc.Baggage().Len() == 0 {
		return c.Context.Value(otelBaggageKey)
	}
	b := baggage.FromContext(c.Context)
	sc.Baggage().Each(func(m propagation.Member) bool {
		if mem, err := baggage.NewMemberRaw(m.Key, m.Value); err == nil {
			if nb, err := b.SetMember(mem); err == nil {
				b = nb
			}
		}
		return true
	})
	return baggage.ContextWithBaggage(context.Background(), b).Value(otelBaggageKey)
}

// contextWithSpan returns ctx with the OpenTracing span ot current for
// both APIs; it is the tracer's ContextWithSpanHook.
func (p *Provider) contextWithSpan(ctx context.Context, ot opentracing.Span) context.Context {
	if r, ok := ot.(*remoteSpan); ok {
		// The remote view put back: it stays a remote context.
		if otelSpanKey == nil || otSpanKey == nil {
			return trace.ContextWithSpan(ctx, &span{remote: r.remote, tracer: r.tracer})
		}
		return &spanCtx{Context: ctx, sp: span{remote: r.remote, tracer: r.tracer}}
	}
	if otelSpanKey == nil || otSpanKey == nil {
		return trace.ContextWithSpan(ctx, &span{ot: ot, tracer: p.defaultTracer()})
	}
	return &spanCtx{Context: ctx, sp: span{ot: ot, tracer: p.defaultTracer()}}
}

// parentOf finds the parent for a span started from ctx: the current span
// of either API, or a remote OpenTelemetry span context.
func (p *Provider) parentOf(ctx context.Context) *tracer.SpanContext {
	if c, ok := ctx.(*spanCtx); ok {
		// The usual case, a span of either API current in ctx (a context
		// put above ours would be found by the lookups below).
		if sc := c.sp.flowtraceContext(); sc != nil {
			return sc
		}
	} else if ctx == background || ctx == todo {
		// No values at all: a root, without asking three times.
		return nil
	}
	// The probed keys ask ctx what SpanFromContext and FromContext would,
	// without their empty values.
	var cur trace.Span
	if otelSpanKey != nil {
		cur, _ = ctx.Value(otelSpanKey).(trace.Span)
	} else {
		cur = trace.SpanFromContext(ctx)
	}
	if cur != nil {
		if s, ok := cur.(*span); ok {
			if sc := s.flowtraceContext(); sc != nil {
				return sc
			}
		}
		if sc := cur.SpanContext(); sc.IsValid() {
			return p.t.RemoteContext(propagation.State{SpanContext: wireOf(sc), Baggage: baggageOf(ctx)})
		}
	}
	if ot := opentracing.SpanFromContext(ctx); ot != nil {
		if sc, ok := ot.Context().(*tracer.SpanContext); ok {
			return sc
		}
	}
	if otelBaggageKey != nil && ctx.Value(otelBaggageKey) == nil {
		return nil
	}
	if b := baggageOf(ctx); b.Len() > 0 {
		// A flow id set through OpenTelemetry's baggage with no span yet.
		return p.t.RemoteContext(propagation.State{Baggage: b})
	}
	return nil
}

func wireOf(sc trace.SpanContext) propagation.SpanContext {
	return propagation.SpanContext{
		TraceID:    propagation.TraceID(sc.TraceID()),
		SpanID:     propagation.SpanID(sc.SpanID()),
		Flags:      byte(sc.TraceFlags()),
		TraceState: sc.TraceState().String(),
	}
}

func baggageOf(ctx context.Context) propagation.Baggage {
	ms := baggage.FromContext(ctx).Members()
	if len(ms) == 0 {
		return propagation.Baggage{}
	}
	out := make([]propagation.Member, len(ms))
	for i, m := range ms {
		out[i] = propagation.Member{Key: m.Key(), Value: m.Value()}
	}
	return propagation.NewBaggage(out...)
}
