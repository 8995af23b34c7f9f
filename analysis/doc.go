// Package analysis is the home of flowtrace's trace-analysis tools; it has
// no API of its own. The tools read the neutral model of package
// analysis/trace, fed by analysis/source (OTLP files, Jaeger):
//
//   - analysis/deps: the service dependency graph (Mermaid, DOT, SVG)
//   - analysis/red: rate, errors and duration per service and operation
//   - analysis/slo: SLO compliance and multi-window multi-burn-rate alerts
//   - analysis/triage: the service and team closest to an SLO breach's cause
//   - analysis/promtriage: the same from Prometheus's service-graph series
//   - analysis/coverage: how far each critical user operation is traced
//     end to end, and where its traces go dark
//   - analysis/estimate: per-service load from an edge traffic forecast
//   - analysis/owners: the ownership file (service → team, on-call channel)
//   - analysis/slorules: Prometheus recording rules and burn-rate alerts
//     for the SLOs, over the connector's SLI counters
//
// analysis/stream runs deps, red, estimate, slo and triage over files
// trace by trace in bounded memory. analysis/live runs them continuously over spans as they arrive
// and keeps their results as Prometheus series (flowtrace serve, the
// collector connector). cmd/flowtrace is their command-line front end. testdata/shop.jsonl is the
// recorded span file the golden tests read; while it is the synthetic one
// (package analysis/internal/shopdata), `go test ./analysis -update`
// regenerates it.
package analysis
