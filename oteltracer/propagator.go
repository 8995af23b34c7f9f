package oteltracer

import (
	"context"

	"github.com/opentracing/opentracing-go"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// Propagator returns the tracer's configured propagators (OTEL_PROPAGATORS:
// trace context, baggage, the flow id, B3, Jaeger) as an OpenTelemetry
// TextMapPropagator. Inject writes the current span of ctx, whichever API
// started it, with the context's baggage; Extract validates routed
// baggage as the tracer's Extract does and makes the caller's context the
// parent of the next span of either API.
func (p *Provider) Propagator() otelprop.TextMapPropagator { return textMap{p} }

type textMap struct{ p *Provider }

// Inject implements TextMapPropagator.
func (m textMap) Inject(ctx context.Context, carrier otelprop.TextMapCarrier) {
	if carrier == nil {
		return
	}
	var wire propagation.SpanContext
	cur := trace.SpanFromContext(ctx)
	if s, ok := cur.(*span); ok {
		if sc := s.flowtraceContext(); sc != nil {
			wire = sc.PropagationContext()
		}
	} else if sc := cur.SpanContext(); sc.IsValid() {
		wire = wireOf(sc)
	} else if ot := opentracing.SpanFromContext(ctx); ot != nil {
		if sc, ok := ot.Context().(*tracer.SpanContext); ok {
			wire = sc.PropagationContext()
		}
	}
	// baggage.FromContext sees the span's baggage over what was set above
	// it (spanCtx), so this is what the request carries.
	sc := m.p.t.RemoteContext(propagation.State{SpanContext: wire, Baggage: baggageOf(ctx)})
	_ = m.p.t.Inject(sc, opentracing.TextMap, propagation.Carrier(carrier))
}

// Extract implements TextMapPropagator.
func (m textMap) Extract(ctx context.Context, carrier otelprop.TextMapCarrier) context.Context {
	if carrier == nil {
		return ctx
	}
	osc, err := m.p.t.Extract(opentracing.TextMap, propagation.Carrier(carrier))
	if err != nil {
		return ctx
	}
	sc, ok := osc.(*tracer.SpanContext)
	if !ok {
		return ctx
	}
	if otelSpanKey == nil || otSpanKey == nil {
		// The plain way (see Tracer.Start); ContextWithSpan calls the
		// tracer's hook, which sets the OpenTelemetry view.
		return opentracing.ContextWithSpan(ctx, &remoteSpan{remote: sc, tracer: m.p.defaultTracer()})
	}
	return &spanCtx{Context: ctx, sp: span{remote: sc, tracer: m.p.defaultTracer()}}
}

// Fields implements TextMapPropagator.
func (m textMap) Fields() []string { return m.p.t.Propagator().Fields() }
