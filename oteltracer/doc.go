// Package oteltracer is the OpenTelemetry tracing API implemented by
// flowtrace's tracer: libraries instrumented with OpenTelemetry (otelhttp,
// otelsql, redisotel, ...) join the traces of a service instrumented with
// OpenTracing, through one pipeline.
//
// It is not the OpenTelemetry SDK behind a bridge. An OpenTelemetry span
// started through a [Provider] is a [tracer.Span] (or the tracer's
// unsampled span): the same sampler, limits, tag policy, baggage rules,
// export queue, resource and Stats as an OpenTracing span, and the same
// cost when it is not sampled.
//
// flowtrace.Start installs a Provider as the OpenTelemetry global
// (otel.SetTracerProvider) and [Provider.Propagator] as the global text
// map propagator, unless flowtrace.WithoutGlobalTracer is given.
//
// # One context for both APIs
//
// A span started by either API is the current span of both in the context
// it returns: trace.SpanFromContext and opentracing.SpanFromContext find
// it, and a span of the other API started from that context is its child.
// (For OpenTracing spans this goes through the tracer's
// ContextWithSpanHook, which opentracing.ContextWithSpan calls.) Baggage,
// the flow id, critical_operation and traffic_source among it, is the
// span's: OpenTelemetry spans copy the routed items into tags as
// OpenTracing spans do, and baggage.FromContext returns the span's baggage
// (over any OpenTelemetry baggage set earlier in the context).
//
// # Mapping
//
// Attributes of every OpenTelemetry type are kept; slices are recorded as
// their JSON text, since flowtrace's span data holds scalar values. Events
// are span logs (an attribute named "event" is left out: OpenTracing uses
// that key for the event's name). RecordError adds the "exception" event
// with exception.type and exception.message (and exception.stacktrace when
// asked) and does not change the status, as in OpenTelemetry. Links keep
// their span context; their attributes are not recorded. The
// instrumentation scope of each Tracer (name and version) is its spans'
// scope, tracer.SpanData.Scope, which the OTLP exporter writes as one
// ScopeSpans per scope; OpenTracing spans have flowtrace's scope.
package oteltracer
