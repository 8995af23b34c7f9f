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
// ContextWithSpanHook, which opentracing.ContextWithSpan calls.) After a
// propagator's Extract (otelhttp's handler, for one) the caller's span
// context is current for both APIs: trace.SpanFromContext returns a
// non-recording span with it, as in OpenTelemetry, and
// opentracing.SpanFromContext a non-recording OpenTracing span whose
// Context is it, so opentracing.StartSpanFromContext starts the caller's
// child. Tags, logs, Finish and SetBaggageItem on that view do nothing:
// the span is the caller's. Baggage,
// the flow id, critical_operation and traffic_source among it, is the
// span's: OpenTelemetry spans copy the routed items into tags as
// OpenTracing spans do, and baggage.FromContext returns the span's baggage
// (over any OpenTelemetry baggage set earlier in the context).
//
// # Mapping
//
// Attributes of every OpenTelemetry type are kept: scalars and slices of
// strings, bools, int64s and float64s with their types (OTLP ArrayValue
// for slices); byte slices and the newer heterogeneous slice and map kinds
// as their text. Event attributes that are slices are text too. Events
// are span logs (an attribute named "event" is left out: OpenTracing uses
// that key for the event's name). RecordError adds the "exception" event
// with exception.type and exception.message (and exception.stacktrace when
// asked) and does not change the status, as in OpenTelemetry. Links keep
// their span context; their attributes are not recorded. The
// instrumentation scope of each Tracer (name and version) is its spans'
// scope, tracer.SpanData.Scope, which the OTLP exporter writes as one
// ScopeSpans per scope; OpenTracing spans have flowtrace's scope.
//
// # Cost
//
// Start makes one allocation, as OpenTracing's StartSpan does: the
// tracer's span (tracer.StartSpanIn), its OpenTelemetry view and the
// context Start returns are one value. SetAttributes converts scalar
// attributes without a call per value and records them under one lock
// (tracer.Span.SetAttributes); on an unsampled span it does nothing. A
// span has room for 6 attributes in that allocation (an OpenTracing span
// 8), so that it stays in the same size class; more grow its slice. The
// context keeps its parent context reachable for as long as the span's
// data is (a processor that holds SpanData until export holds it too; the
// OTLP batcher encodes at End and does not).
package oteltracer
