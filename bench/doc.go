// Package bench measures flowtrace against the tracers and instrumentation
// users would otherwise pick, on identical work, in one run. It is a module
// of its own so that its comparison dependencies never reach users.
//
// Workloads, each a benchmark with one sub-benchmark per tracer:
//
//	Span              span API: root, 5 tags, a log, a child (anchors_test.go, span_test.go)
//	InjectExtract     HTTP header propagation (propagation_test.go)
//	HTTPServer        server middleware in process (http_test.go)
//	HTTPLoopback      traced client and server over loopback (http_test.go)
//	GRPCUnary         traced unary calls over loopback (grpc_test.go)
//	Kafka             produce and consume through kfake (kafka_test.go)
//	Export            OTLP/gRPC to a receiver in a child process (export_test.go, main_test.go)
//	FinishBlackholed  Finish latency and Shutdown with a hung collector (blackhole_test.go)
//
// Run everything with ./run.sh; it writes docs/performance.md with
// cmd/report. CI runs each benchmark once:
//
//	go test -run '^$' -bench . -benchtime=1x ./...
package bench
