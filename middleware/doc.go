// Package middleware holds flowtrace's instrumentation for transports, one
// sub-package per library: tracehttp (net/http servers and clients),
// tracegrpc (gRPC) and tracekafka (Kafka). Each speaks the OpenTracing API
// only, so it works with any OpenTracing tracer, and carries the flow id
// (X-Flow-ID) as the flow_id baggage item.
//
// The three are thin: a carrier, their transport's tags and their writer or
// stream wrappers. Extraction, the trust decision, critical operation and
// traffic source, flow-id resolution, span start and injection live in one
// internal engine (middleware/internal/instr), whose package doc states the
// one flow-id precedence; a conformance test (middleware/internal/crosstest
// TestConformance) runs the same scenarios through all three on real
// servers and expects the same flow ids, tags, baggage and headers.
//
// Tag and log field keys come from the generated helpers of package semconv
// (semconv.HTTPStatusCode.Set(span, 200)), never from string literals; the
// one exception is span.kind, set with opentracing-go's typed ext helpers
// because some OpenTracing tracers only recognise ext.SpanKindEnum values.
//
// # Critical user operations and traffic source
//
// An edge server (tracehttp or tracegrpc, usually a public endpoint) decides
// before a request's span starts whether it belongs to a critical user
// operation (WithCriticalOperation, by route or method) and where it came
// from (WithTrafficSource; a public endpoint without one applies
// DefaultTrafficSource). A critical request is forced into sampling with the
// OpenTracing sampling.priority start tag, at most WithCriticalSampling
// requests a second per operation when that cap is set. Both values go into
// baggage (critical_operation, traffic_source), so they travel over HTTP,
// gRPC and Kafka, and are set as tags on every span: by the middleware on
// each server, client, producer and consumer span, and by flowtrace's
// tracer, which copies these baggage items onto every span by default.
// Downstream services follow the sampled flag of their caller. A service
// that receives them from a trusted caller keeps them; a public endpoint
// discards incoming baggage, so no outside client can set them.
package middleware
