// Package serve is `flowtrace serve`, the embedded default for one
// machine: an OTLP trace receiver (gRPC and HTTP, each request bounded)
// feeding a [live.Core], its series at /metrics in the Prometheus text
// format, and a page at / with the live service diagram (an SVG that
// flowtrace draws itself: no Graphviz, no script) and the SLO table.
//
// Endpoints of the HTTP listener:
//
//   - POST /v1/traces: OTLP/HTTP, protobuf or JSON, gzip allowed;
//     larger than the request bound (compressed or not) is 413
//   - GET /metrics: the core's series
//   - GET /: the page (it reloads itself every 5 seconds)
//   - GET /graph.svg: the diagram alone
//
// The gRPC listener serves the OTLP TraceService; a message over the
// bound is refused with ResourceExhausted. A request whose spans cannot be
// converted (no trace or span id) is refused and its spans counted in
// flowtrace_dropped_spans_total{reason="decode"}.
//
// The package reads no environment variables.
package serve
