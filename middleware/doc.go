// Package middleware holds flowtrace's instrumentation for transports, one
// sub-package per library: tracehttp (net/http servers and clients),
// tracegrpc (gRPC) and tracekafka (Kafka). Each speaks the OpenTracing API
// only, so it works with any OpenTracing tracer, and carries the flow id
// (X-Flow-ID) as the flow_id baggage item.
//
// The three are thin: a carrier, their transport's tags and their writer or
// stream wrappers. Extraction, the trust decision, critical operation and
// traffic source, flow-id resolution, span start and injection live in one
// internal engine (middleware/internal/instr); a conformance test
// (middleware/internal/crosstest TestConformance) runs the same scenarios
// through all three on real servers and expects the same flow ids, tags,
// baggage and headers, as this doc states them.
//
// # Flow id
//
// Inbound (a server request, a gRPC call, a consumed message), in order:
//
//  1. At a public endpoint (WithPublicEndpoint) nothing that came in is
//     trusted: the flow id is new. A valid incoming one is recorded as the
//     tag flow_id.incoming, an invalid one (sanitised) as flow_id.invalid.
//  2. The flow-id header (X-Flow-ID; x-flow-id in gRPC metadata) when it is
//     exactly one valid value, also over a different flow_id baggage item.
//  3. A header that is present but invalid (empty, too long, characters
//     outside the safe set, several values) is recorded, sanitised, as
//     flow_id.invalid and then treated as absent.
//  4. A valid flow_id baggage item that came with the trace context.
//  5. A new id (flowid.New).
//
// Outbound (a client request, a gRPC call, a produced message): the flow id
// of the context (flowid.FromContext), else a valid one the caller already
// put on the request, metadata or message, else a new one: every hop of a
// flow carries a flow id from its first span on, whoever starts it.
//
// The flow id becomes the span's flow_id baggage item and tag, goes into
// the handler's context, is echoed by servers in their response headers,
// and is written to the outgoing flow-id header after the tracer's own
// injection whatever its propagators. A filtered request or call
// (WithFilter) gets no span and no extraction: on the server its flow id is
// the single valid header (never at a public endpoint), else a new one,
// put in the context and echoed; a filtered client call passes the
// caller's trace context and flow id on and makes nothing up.
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
// DefaultTrafficSource: the X-Traffic-Source header or x-traffic-source
// metadata when it is one allowed value, else "unknown"). A critical request is forced into sampling with the
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
