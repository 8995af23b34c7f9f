// Package tracetest provides an in-process OTLP trace receiver and a
// blackholed collector for tests and demos.
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
