// Package coverage reports how far each critical user operation is traced
// end to end: the services on its path, which hops are instrumented on
// both sides, and where the trace goes dark. It is the rollout's steering
// report ("crawl, walk, run": enough coverage for end-to-end traces of the
// high-value transactions first), behind `flowtrace coverage`.
//
// A trace belongs to the critical operation its spans carry
// (critical_operation, set from baggage at the edge). For each operation
// the hops are the edges of the dependency graph of its traces, built by
// package deps with its one peer rule (see [deps] and [trace.PeerOf]):
//
//   - traced: the caller's client (or producer) span has the callee's
//     server (or consumer) span;
//   - terminal: a call to a database, cache or message broker
//     (db.system(.name), messaging.system without a consumer in the data):
//     such systems send no spans by nature, so the client span is all the
//     tracing there is, and the hop counts as traced;
//   - uninstrumented: a client span names a remote service (peer.service,
//     a host name) that sends no spans at all: the service is a dark node,
//     named with its team from the ownership file, which is the only
//     source of a team for a service that emits nothing;
//   - server span missing: the callee is a service of the data, but these
//     calls have no server span (a handler or route not wrapped);
//   - unknown peer: a client span that names only an address;
//   - no consumer: a topic is produced to but no consumer span of the
//     operation's traces (or linked to them) reads it.
//
// Per service on the path, the report also counts spans that lost the
// flow id or the critical-operation baggage (a hop that does not propagate
// them breaks log correlation and per-operation sampling downstream; the
// hop where a flow id changes is counted on the hop) and spans whose
// attribute keys are not in the tag registry (package semconv), with a few
// example keys.
//
// Counts are observed spans and traces, not weighted by sampling
// probability: coverage is about which hops exist, not how often they are
// called. Memory is bounded: at most [MaxOperations] operations (more are
// counted in [Report.OperationsOverflow]) and per operation the bounded
// deps graph builder. The package reads no environment variables and no
// files.
package coverage
