// Package source reads trace data into the neutral model of package
// [github.com/flowtrace/flowtrace/analysis/trace].
//
// Files are streamed ([StreamFile], [Stream]): the spans come in chunks,
// one JSON document or up to [ChunkSpans] protobuf spans at a time, so
// memory does not grow with the file; [ReadFile] and [Read] collect them
// all for small inputs. Formats:
//
//   - OTLP/JSON: one ExportTraceServiceRequest per line (JSON Lines), as
//     flowtrace's console exporter and the shop demo write them. Documents
//     may also span several lines (a pretty-printed request, or several in
//     a row); errors name the line the failing document starts on.
//     A document is bounded ([DefaultMaxDocumentBytes], or
//     [WithMaxDocumentBytes]); a larger one is an error naming its line.
//   - OTLP protobuf: exactly one binary ExportTraceServiceRequest per file
//     (what an OTLP/HTTP client POSTs to /v1/traces), of at most 1 GiB,
//     read field by field. pdata writes a resource after its spans; from
//     an uncompressed file the reader looks ahead for it, from gzip or a
//     pipe it holds that resource's spans until the resource arrives.
//     Concatenated or length-delimited requests are not supported.
//   - Either, gzip-compressed.
//
// OTLP/JSON documents in the form exporters write (camelCase fields, hex
// ids, int64 as strings or numbers) are decoded straight into the model;
// any other form goes through pdata's parser, so the result, or the error
// and the line it names, is pdata's either way. On a large file this is
// about half of a tool's CPU time saved (docs/performance.md).
//
// The format is detected from the content: gzip by its magic bytes, then
// JSON when the first non-blank byte is '{', protobuf otherwise.
//
// Jaeger ([Jaeger]): the HTTP query API of Jaeger (v1 and v2 serve the same
// /api/services and /api/traces endpoints). Responses are bounded in size
// and time. [Jaeger.Search] asks for a window by start and end (in
// microseconds: the API ignores the UI's lookback parameter) and pages by
// splitting: a window that returns the limit (or a response over the size
// bound) is fetched again as two halves, newest first, until every window
// is complete; traces are de-duplicated by id. It stops at a trace cap or a
// request cap, or at more traces in one microsecond than the limit, and
// then marks the result partial and says why. A query by service finds only
// the traces that have a span of that service; with no service every
// service Jaeger knows is queried.
//
// The package reads no environment variables.
package source
