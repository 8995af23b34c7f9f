// Package deps builds the service dependency graph from traces and renders
// it as Mermaid, Graphviz DOT or (with Graphviz installed) SVG.
//
// Each trace's clock skew is corrected first (see package
// [github.com/flowtrace/flowtrace/analysis/trace]). Edges come from:
//
//   - a client span and its server side (children where a service receives
//     work, or in another service): caller → callee; a service calling
//     itself is drawn as a loop;
//   - a client span with no server side, by one rule ([trace.PeerOf]): when
//     its peer attributes name a remote system (peer.service,
//     db.system(.name) with db.namespace, messaging.system, a server.address
//     host name) that is not a service in the data, the system is a peer
//     node (an uninstrumented database, cache or API); when they name a
//     service of the data, or an rpc.service some service's server spans
//     carry, it is an unpaired call to that service, drawn and counted in
//     [Edge.Unpaired]; a call that names only an address or an unknown RPC
//     interface reaches no node and is listed in [Graph.Unresolved];
//   - a root server span linked to a client span of the data (a public
//     endpoint starts a new trace linked to its caller): caller → service,
//     the server span being that client's server side;
//   - any other root server span (no parent): user → service, the uninstrumented
//     callers, as Tempo's service graph and the OpenTelemetry Collector's
//     servicegraph connector draw them;
//   - a span whose parent, not a client span, is in another service;
//   - Kafka: a producer span adds service → topic, a consumer span topic →
//     service (messaging.destination.name), so a topic is a node of its
//     own. A batch consumer span is one call that delivered
//     [trace.Span.Messages] messages ([Edge.Messages]); a consumer reached only
//     through span links and naming no topic gets an edge from each linked
//     span's service.
//
// Each edge has a type (grpc when rpc.system=grpc, kafka when
// messaging.system=kafka, http when an http.* attribute is present, else
// call), the call count, the error ratio, and p50/p99 latency as the
// caller saw it (the client or producer span; the consumer span for topic →
// service). Like every flowtrace tool, deps weights by
// 1/sampling.probability: the count drawn on an edge is the calls (and
// messages) the sampled spans stand for, and so are the ratio and the
// percentiles; [Edge.Calls] keeps the observed span count, and
// [Graph.WriteJSON] writes both.
//
// What the diagram cannot show — orphans, unpaired spans, clock-skew
// corrections ([Graph.Integrity]), unresolved calls, links to spans not in
// the data — is in [Graph.Notes], which Mermaid and DOT output carry as
// comments.
//
// Latency percentiles per edge are exact up to 1,024 calls and within 1%
// relative error beyond (a mergeable DDSketch). [Builder] builds the graph
// trace by trace in bounded memory (the choices that need all the data,
// peer node or unpaired call, wait for [Builder.Graph]); [Build] is it over
// traces in memory.
//
// The package reads no environment variables. [Graph.SVG] runs the `dot`
// program from PATH.
package deps
