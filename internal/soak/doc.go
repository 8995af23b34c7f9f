// Package soak holds flowtrace's bounded soak test; it has no code of its
// own.
//
// TestSoak runs traced HTTP (middleware/tracehttp), gRPC
// (middleware/tracegrpc) and Kafka (middleware/tracekafka through
// internal/kafkatest's in-process broker) traffic on 127.0.0.1. Every
// service has its own flowtrace.Start pipeline; all of them export over
// OTLP/gRPC to one tracetest.ChaosReceiver that a goroutine switches between
// healthy, slow, hung, throttling, unavailable, resetting and partially
// successful every 1–2 s. A short untraced phase with the same load comes
// first, as the latency baseline.
//
// It asserts that tracing never breaks the service (every HTTP and gRPC call
// succeeds, every Kafka message is processed), that the heap after
// runtime.GC stays below the configured queue caps plus a fixed slack, that
// after Shutdown every pipeline accounts for every span
// (Tracer.Finished = Export.Exported + Export.Dropped()), and that no
// goroutine outlives the test. It reports spans per second, peak heap, drops
// by reason and request latency with and without tracing. Timing is asserted
// only in long mode, which is never run in CI.
//
// Flags (pass them to this package only):
//
//	-soak.duration=5m   length of the traced phase (default 20s, 6s with -short)
//	-soak.long          long mode: assert latency and print a Markdown table
//	-soak.rate=N        HTTP requests per second (each also makes a gRPC call)
//	-soak.kafka-rate=N  Kafka messages per second
//
// Long mode, outside CI and without the race detector:
//
//	go test ./internal/soak/ -run TestSoak -v -timeout 30m -soak.duration=5m -soak.long
//
// The figures measured are in docs/soak.md.
package soak
