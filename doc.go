// Package flowtrace starts a self-configured OpenTracing tracer that
// exports OTLP.
//
//	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
//	defer stop()
//	tracing := flowtrace.Start(ctx)
//	defer tracing.Close() // Shutdown with a 5 s deadline
//
// Catch SIGTERM as above: a process that a signal kills (a pod being
// stopped) runs no deferred call, and its queued spans are lost. The README
// shows a whole main that also drains its HTTP server before the flush.
//
// Start reads OTEL_* (then FLOWTRACE_*) environment variables and the
// platform (Kubernetes downward API, container, process, Go build info,
// cloud metadata when opted in); see package config for every variable.
// The tracer it returns implements opentracing.Tracer and is installed as
// the OpenTracing global tracer, so existing OpenTracing instrumentation and
// the middleware packages pick it up.
package flowtrace
