// Package tracelog correlates log records with traces: [NewHandler] wraps a
// log/slog handler so that every record carries the trace_id, span_id and
// flow_id of its context as top-level attributes, also under WithGroup.
//
// The ids come from the OpenTracing span in the context
// (opentracing.SpanFromContext): its span context must implement
// interface{ PropagationContext() propagation.SpanContext }, as flowtrace's
// tracer does, for trace_id and span_id to appear. flow_id comes from
// flowid.FromContext. Keys with no value are left out.
//
// The package reads no environment variables.
package tracelog
