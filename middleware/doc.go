// Package middleware holds flowtrace's instrumentation for transports, one
// sub-package per library: tracehttp (net/http servers and clients),
// tracegrpc (gRPC) and tracekafka (Kafka). Each speaks the OpenTracing API
// only, so it works with any OpenTracing tracer, and carries the flow id
// (X-Flow-ID) as the flow_id baggage item.
package middleware
