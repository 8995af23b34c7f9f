// Package promtriage is `flowtrace triage --prometheus`: it names the
// service and team nearest the cause of failures from the per-edge
// service-graph series in Prometheus (traces_service_graph_request_total
// and traces_service_graph_request_failed_total, labels client, server and
// connection_type, as the flowtrace connector, `flowtrace serve` and the
// collector's servicegraph connector export them), with no trace data.
//
// It reads the increase of both counters per edge over a window, then
// applies the error-propagation rule of package
// [github.com/flowtrace/flowtrace/analysis/triage] as far as aggregates
// allow. From an entry point (the service given with --from, else every
// service the "user" node calls that failed requests) it follows failures
// down: at a service that returned failures to its callers, to the callee
// whose calls from it failed most (ties: the higher failure ratio), until
// a service with no failing calls of its own — its errors are its own.
//
//   - A service that returned no failures is not walked past: whatever its
//     callees failed, it recovered from (a retry, a fallback), as triage
//     does not blame a child its parent recovered from.
//   - Messaging edges are not followed: a consumer's failure does not
//     reach the producer's caller, as triage ignores work that starts after
//     the event ended.
//   - A peer that sends no spans (connection_type virtual_node or
//     database) ends the walk: the cause is the service calling it, whose
//     own client span is the deepest failed span triage would find, unless
//     the ownership file lists the peer, whose team is then nearer the
//     cause.
//
// What aggregates cannot tell, and traces can: which failed call a failed
// request waited for, and whether a failed call was retried successfully
// by a service that still failed for another reason. Each hop therefore
// reports how much of the caller's failures its calls could explain, and
// file or Jaeger triage over the same window gives the per-request answer.
//
// Teams are not metric labels: the cause's team and channel come from the
// ownership file (package [github.com/flowtrace/flowtrace/analysis/owners]).
// Each Prometheus answer is bounded in size ([Client.MaxBytes]) and time;
// an error answer, a non-JSON body or a wrong result type is an error that
// names the server (without its password) and the query.
//
// The package reads no environment variables.
package promtriage
