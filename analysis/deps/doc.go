// Package deps builds the service dependency graph from traces and renders
// it as Mermaid, Graphviz DOT or (with Graphviz installed) SVG.
//
// Edges come from:
//
//   - a client span and its children in another service (caller → callee);
//     a client span with no instrumented child points at its peer.service,
//     peer.hostname or rpc.service attribute instead;
//   - a span whose parent, not a client span, is in another service;
//   - Kafka: a producer span adds service → topic, a consumer span topic →
//     service (messaging.destination.name), so a topic is a node of its own.
//
// Each edge has a type (grpc when rpc.system=grpc, kafka when
// messaging.system=kafka, http when an http.* attribute is present, else
// call), the observed call count, the error ratio, and p50/p99 latency as
// the caller saw it (the client or producer span; the consumer span for
// topic → service). Counts are observed spans, not weighted by sampling;
// the ratio and percentiles are weighted by 1/sampling.probability.
//
// The package reads no environment variables. [Graph.SVG] runs the `dot`
// program from PATH.
package deps
