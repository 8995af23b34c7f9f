// Package tracetest provides an in-memory span recorder, an in-process
// OTLP trace receiver and a blackholed collector for tests and demos.
//
// [Recorder] records flowtrace spans where the tracer's pipeline hands them
// over: as the tracer's SpanProcessor (tracer.WithProcessor(rec): a span is
// recorded when Finish returns) or as the exporter behind a real batcher
// (export.NewBatcher(rec): recorded when the batcher exports). It gives the
// same [Span] model as the Receiver, with attribute values as OTLP carries
// them, so tests assert spans without an OTLP round trip and without
// polling; [Recorder.WaitForSpans] waits, woken by each span, for spans
// that other goroutines end. It is the role OpenTelemetry's
// tracetest.SpanRecorder and OpenTracing's mocktracer play, for flowtrace's
// own tracer:
//
//	rec := tracetest.NewRecorder()
//	tr := tracer.New(tracer.WithProcessor(rec))
//	tr.StartSpan("checkout").Finish()
//	spans := rec.Spans() // one span, already there
//
// [NewReceiver] listens on 127.0.0.1 with both an OTLP/gRPC server and an
// OTLP/HTTP server (POST /v1/traces; application/x-protobuf or
// application/json; gzip request bodies accepted; request size bounded). It
// keeps what it receives in memory, up to a bounded number of spans, both as
// the raw [ptrace.Traces] batches and as a flat, neutral [Span] model that
// tests can query without knowing pdata:
//
//	rcv, err := tracetest.NewReceiver()
//	...
//	defer rcv.Close()
//	// point an exporter at rcv.GRPCEndpoint() or rcv.HTTPEndpoint()
//	spans, err := rcv.WaitForSpans(ctx, 3)
//
// [NewBlackhole] accepts TCP connections and never answers, which is what a
// hung collector looks like to an exporter.
//
// Every goroutine started by a Receiver or Blackhole is stopped by its Close
// or Shutdown method. The package reads no environment variables.
package tracetest
