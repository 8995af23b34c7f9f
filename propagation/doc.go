// Package propagation carries span context, baggage and the flow id across
// process boundaries.
//
// The core types are independent of any tracer: [SpanContext] and [Baggage]
// make up a [State], which a [Propagator] injects into or extracts from a
// [Carrier] (HTTP headers, gRPC metadata, Kafka headers, an OpenTracing text
// map). Formats are registered by name and combined into a composite chosen
// by OTEL_PROPAGATORS.
package propagation
