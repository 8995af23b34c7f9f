// Package export takes finished spans from the tracer to the wire without
// ever blocking the traced service.
//
// The pipeline is a [Batcher] (a tracer.SpanProcessor) in front of an
// [Exporter]:
//
//	t, err := export.NewOTLPClient(export.OTLPSettings{
//		Protocol: export.ProtocolGRPC,
//		Endpoint: "https://collector:4317",
//	})
//	...
//	b := export.NewBatcher(export.NewOTLP(t, resource))
//	defer b.Shutdown(ctx)
//
// # Batcher
//
// OnEnd does a non-blocking enqueue and a few atomic operations: it never
// waits for the worker, a full channel or the network. In front of an
// OTLPExporter it first encodes the finished span to OTLP protobuf wire
// bytes (as Converter + proto.Marshal would, byte for byte) and copies them
// into a 32 KiB chunk shared with other spans (under a mutex held for that
// copy only; a chunk is reused once all its spans are exported), so the
// queue holds pointer-free bytes the garbage collector does not scan, the
// span object is not referenced once OnEnd returns and dies young, and a
// batch is the resource and scope headers around the spans' bytes. The queue is bounded
// both in spans (WithMaxQueueSize, default 2048) and in bytes
// (WithMaxQueueBytes, default 8 MiB): the exact encoded size in front of an
// OTLPExporter, [EstimateSize] for other exporters, which get the
// *tracer.SpanData itself. Both bounds cover spans queued and spans in the
// export in progress. While half the queue or more is waiting, every
// 1/8 batch an OnEnd yields the processor, so that a starved worker
// (GOMAXPROCS=1, a busy loop finishing spans, a loaded machine) exports
// instead of the queue overflowing; a full queue drops without yielding. A span that does not fit
// is dropped and counted, and so is a span offered after Shutdown. One
// goroutine exports batches of up to WithMaxBatchSize spans (default 512),
// when a batch fills or WithScheduleDelay (default 5 s) has passed, each
// export bounded by WithExportTimeout (default 30 s). A failed export drops
// its spans; failures are logged through the SDK logger (package sdklog) at
// most once per WithErrorLogInterval (default 10 s) with the count of
// failures and dropped spans since the last line, the error text quoted and
// truncated; at the debug level every export's outcome gets a line. An
// export the collector accepted except some spans (an OTLP partial success,
// see [RejectedError]) counts those spans as DroppedRejected and only the
// accepted ones as Exported. Spans whose request was sent but never answered
// before the deadline are Unconfirmed: they may have arrived, so they are
// neither exported nor dropped. [Batcher.Stats] returns the counters; after
// Shutdown, finished (offered) = Exported + Dropped() + Unconfirmed; see
// [Stats].
//
// Shutdown exports what is queued and returns by its context's deadline even
// when the collector hangs: it then cancels the export in progress and counts
// every span still held as dropped at shutdown.
//
// # OTLP exporter and transport
//
// [NewOTLP] encodes a batch to OTLP protobuf with the rules of [ToOTLP]
// (every string made valid UTF-8, so one bad span cannot fail a batch) and
// sends it through a [Transport]; behind a Batcher the spans arrive
// already encoded, and only the request around them is built. Both go
// through one sending path (limits, splits, trimming, outcome). Requests are kept under a byte limit on their
// uncompressed size ([WithMaxRequestBytes], default [DefaultMaxRequestBytes]
// = 3 MiB, below grpc-go's and the Collector's default 4 MiB receive
// limit): a larger batch goes as several requests, and a span that alone is
// larger is trimmed (events, then attributes, then links dropped from the
// end and counted on the span; then name, status message and tracestate cut
// to 4 KiB) and counted in Stats.Trimmed. When the collector still says a
// request is too large (HTTP 413, or gRPC RESOURCE_EXHAUSTED without
// RetryInfo: grpc-go's "received message larger than max"), the request is
// split in halves and resent, and later requests stay under half its size.
//
// The transport is flowtrace's own, built on the generated OTLP messages
// (go.opentelemetry.io/proto/otlp), grpc-go and net/http, and configured
// only by [OTLPSettings]. It is not OpenTelemetry's otlptracegrpc and
// otlptracehttp clients because those always read OTEL_EXPORTER_OTLP_*
// themselves, behind flowtrace's validated configuration (a header
// flowtrace reported as dropped was still sent), and log what they cannot
// parse, header values and endpoint passwords included, through the otel
// global logger; neither can be switched off. Its behaviour:
//
//   - [NewOTLPGRPC] calls TraceService/Export with the caller's encoded bytes
//     (a pass-through codec; the answer is the generated response type), so
//     a request is encoded once, measured against the limit, reused across
//     retries, and could be encoded ahead of time. [NewOTLPHTTP] posts
//     protobuf (or OTLP/JSON for ProtocolHTTPJSON) and reads at most
//     [MaxOTLPResponseBytes] of any response (CVE-2026-39882).
//   - Retries follow the OTLP specification: gRPC CANCELLED,
//     DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and
//     RESOURCE_EXHAUSTED only with RetryInfo (back-pressure); HTTP 429, 502,
//     503, 504, and connection errors before the request was written. The
//     server's RetryInfo or Retry-After is honoured; otherwise exponential
//     backoff with jitter. No retry starts that would end past the export's
//     deadline (OTLPSettings.Timeout, default 10 s, retries included).
//   - Partial success is read from the response as data ([Response]).
//   - gzip (klauspost/compress at BestSpeed: plain gzip on the wire, about
//     eight times faster than compress/gzip's default level on OTLP spans).
//     Over gRPC it is this connection's own compressor (grpc-encoding:
//     gzip), not a registration in grpc-go's process-wide registry, which
//     keeps grpc-go's gzip for the program's other gRPC clients and
//     servers; gzip answers are decompressed to at most
//     [MaxOTLPResponseBytes].
//   - TLS with a CA file, mutual TLS with a client certificate and key
//     (or a caller's *tls.Config as the base), headers (validated: never
//     logged, never in an error).
//   - A request written completely and then left without an answer until
//     the deadline fails with [ErrUnconfirmed].
//   - Certificate and key files are read only when TLS is used, and only if
//     they are regular files of at most 1 MiB.
//
// Other exporters: [NewConsole] writes OTLP/JSON, one request per line;
// [NewDiscard] drops everything (the "none" exporter).
//
// [ErrorHandler] is a rate-limited OpenTelemetry error handler for other
// OpenTelemetry components in the process; flowtrace.Start installs one.
//
// # Environment
//
// This package reads no environment variables, and nothing it uses does
// (beyond net/http's standard HTTP_PROXY/HTTPS_PROXY/NO_PROXY for
// OTLP/HTTP). flowtrace.Start passes what package config read from
// OTEL_EXPORTER_OTLP_* and FLOWTRACE_OTLP_MAX_REQUEST_BYTES.
package export
