// Package stability is flowtrace's migration switch between the legacy
// (OpenTracing) tag names it emits by default and OpenTelemetry's stable
// semantic conventions, following OpenTelemetry's OTEL_SEMCONV_STABILITY_OPT_IN.
//
// # The switch
//
// OTEL_SEMCONV_STABILITY_OPT_IN is a comma-separated list (Parse, FromEnv):
//
//   - http: emit the stable HTTP (and network) names instead of the legacy
//     ones; http/dup: emit both;
//   - database: the stable database names (db.system.name, db.namespace,
//     db.query.text, db.operation.name); database/dup: both;
//   - rpc, rpc/dup and messaging, messaging/dup likewise for gRPC and Kafka
//     spans. OpenTelemetry's RPC conventions are a Release Candidate and its
//     messaging conventions are Development (semantic conventions v1.43,
//     the version go.opentelemetry.io/otel v1.47 ships), not stable: the
//     names these two switches emit may still change in OpenTelemetry, and
//     then in flowtrace.
//
// A /dup value wins over the plain one. Without the variable (or for a
// category it does not name) flowtrace emits today's legacy names: that
// default changes only with a release note. The value is untrusted input:
// it is bounded (MaxOptInBytes, MaxOptInTokens), and a token flowtrace does
// not know is ignored with one warning per token per process (FromEnv).
//
// # The mapping
//
// Table is the one mapping between the two vocabularies. It is used by:
//
//   - the emitters of the middleware (Emitter, through tracehttp, tracegrpc
//     and tracekafka), which set the legacy name, the stable names or both;
//   - the generated helpers of package semconv (semconv.DBStatement.Set
//     follows the database switch) and the registry (registry.yaml defines
//     every stable key of the table; a test keeps them in step, and
//     REFERENCE.md prints the table);
//   - the semconvcheck analyzer (package semconv/analyzer), which points at a
//     legacy key written literally where the switch asks for the stable one;
//   - the trace tools (package analysis/trace), which read a key in either
//     vocabulary (Aliases), so that a fleet mid-migration still gets one
//     service graph and one RED table.
//
// The mapping follows span kind where OpenTelemetry does: a server's
// http.url (the escaped path) becomes url.path (with url.scheme from
// http.scheme and url.query), a client's becomes url.full; peer.address
// becomes network.peer.address and network.peer.port on servers,
// server.address and server.port on a gRPC client (its target). The
// network names follow the http switch on gRPC spans too, as OpenTelemetry's
// network attributes became stable with HTTP.
package stability
