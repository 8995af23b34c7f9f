// Package export takes finished spans from the tracer to the wire without
// ever blocking the traced service.
//
// The pipeline is a [Batcher] (a tracer.SpanProcessor) in front of an
// [Exporter]:
//
//	client, err := export.NewOTLPClient(export.OTLPSettings{
//		Protocol: export.ProtocolGRPC,
//		Endpoint: "https://collector:4317",
//	})
//	...
//	b := export.NewBatcher(export.NewOTLP(client, resource))
//	defer b.Shutdown(ctx)
//
// # Batcher
//
// OnEnd does a non-blocking enqueue and a few atomic operations: it never
// waits for a lock, a channel or the network. The queue is bounded both in
// spans (WithMaxQueueSize, default 2048) and in estimated bytes
// (WithMaxQueueBytes, default 8 MiB; see [EstimateSize]); both bounds cover
// spans queued and spans in the export in progress. A span that does not fit
// is dropped and counted, and so is a span offered after Shutdown. One
// goroutine exports batches of up to WithMaxBatchSize spans (default 512),
// when a batch fills or WithScheduleDelay (default 5 s) has passed, each
// export bounded by WithExportTimeout (default 30 s). A failed export drops
// its spans; failures are logged at most once per WithErrorLogInterval
// (default 10 s) with the count of failures and dropped spans since the last
// line, the error text quoted and truncated. An export the collector
// accepted except some spans (an OTLP partial success, see [RejectedError])
// counts those spans as DroppedRejected and only the accepted ones as
// Exported. [Batcher.Stats] returns the counters; see [Stats] for the
// invariants that hold after Shutdown.
//
// Shutdown exports what is queued and returns by its context's deadline even
// when the collector hangs: it then cancels the export in progress and counts
// every span still held as dropped at shutdown.
//
// # Exporters
//
//   - [NewOTLP] converts with [ToOTLP] and uploads with an otlptrace.Client:
//     [NewOTLPClient], [NewOTLPGRPC] or [NewOTLPHTTP] build one from
//     [OTLPSettings], with retries bounded by the export timeout. Every string
//     is made valid UTF-8 on the way, so one bad span cannot fail a batch.
//     OTLP/HTTP responses are read up to [MaxOTLPResponseBytes].
//   - [NewConsole] writes OTLP/JSON, one request per line.
//   - [NewDiscard] drops everything (the "none" exporter).
//
// [ErrorHandler] is a rate-limited OpenTelemetry error handler; flowtrace.Start
// installs one.
//
// # Environment
//
// This package reads no environment variables itself. The OTLP clients it
// wraps (go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc and
// otlptracehttp) read OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
// OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_COMPRESSION,
// OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_INSECURE and their
// _TRACES_ variants; every field set in [OTLPSettings] takes precedence over
// them.
package export
