package tracer

import (
	"github.com/flowtrace/flowtrace/propagation"
)

// SpanContext is flowtrace's opentracing.SpanContext. It is immutable: a
// span whose baggage changes gets a new SpanContext.
type SpanContext struct {
	wire    propagation.SpanContext
	baggage propagation.Baggage
	// probability is the sampling probability of the trace as decided at its
	// root in this process, boxed once so that every span can record it
	// without allocating; nil when unknown (the root was in another process, or its
	// decision published no probability).
	probability any
	// remote: the context came from another process (Extract,
	// RemoteContext) rather than from a span of this tracer. The sampler
	// is told (SamplingParameters.ParentRemote), and a child of a remote
	// parent takes its probability from the parent's th.
	remote bool
	// lean is the unsampled root this context is the initial context of,
	// when startLean made it (and only then is &lean.initial this
	// context: a copy keeps the pointer but is not that context). Its
	// first unsampled child, which carries this context, takes the
	// root's spare span instead of allocating one.
	lean *leanRoot
}

// ForeachBaggageItem implements opentracing.SpanContext.
func (c *SpanContext) ForeachBaggageItem(handler func(k, v string) bool) {
	c.baggage.Each(func(m propagation.Member) bool { return handler(m.Key, m.Value) })
}

// PropagationContext returns the W3C identity of the span: trace id, span
// id, flags and tracestate. Log correlation and propagators read it.
func (c *SpanContext) PropagationContext() propagation.SpanContext { return c.wire }

// Baggage returns the context's baggage.
func (c *SpanContext) Baggage() propagation.Baggage { return c.baggage }

// TraceID returns the trace id.
func (c *SpanContext) TraceID() propagation.TraceID { return c.wire.TraceID }

// SpanID returns the span id.
func (c *SpanContext) SpanID() propagation.SpanID { return c.wire.SpanID }

// IsSampled reports whether the span is recorded and exported.
func (c *SpanContext) IsSampled() bool { return c.wire.IsSampled() }

// IsValid reports whether the context identifies a span. An extracted
// context can be invalid yet carry baggage (a flow id with no trace context).
func (c *SpanContext) IsValid() bool { return c.wire.IsValid() }

func (c *SpanContext) state() propagation.State {
	return propagation.State{SpanContext: c.wire, Baggage: c.baggage}
}
