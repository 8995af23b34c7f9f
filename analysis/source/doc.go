// Package source reads trace data into the neutral model of package
// [github.com/flowtrace/flowtrace/analysis/trace].
//
// Files ([ReadFile], [Read]):
//
//   - OTLP/JSON: one ExportTraceServiceRequest per line (JSON Lines), as
//     flowtrace's console exporter and the shop demo write them. Documents
//     may also span several lines (a pretty-printed request, or several in
//     a row); errors name the line the failing document starts on.
//   - OTLP protobuf: exactly one binary ExportTraceServiceRequest per file
//     (what an OTLP/HTTP client POSTs to /v1/traces). Concatenated or
//     length-delimited requests are not supported.
//   - Either, gzip-compressed.
//
// The format is detected from the content: gzip by its magic bytes, then
// JSON when the first non-blank byte is '{', protobuf otherwise.
//
// Jaeger ([Jaeger]): the HTTP query API of Jaeger (v1 and v2 serve the same
// /api/services and /api/traces endpoints). Responses are bounded in size
// and time.
//
// The package reads no environment variables.
package source
