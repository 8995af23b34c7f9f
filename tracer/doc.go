// Package tracer is flowtrace's OpenTracing tracer.
//
// [Tracer] implements opentracing.Tracer. Sampled spans, once finished, are
// handed as [SpanData] to a [SpanProcessor] (the export package's batcher
// converts them to OTLP off the request path); unsampled spans carry their
// context and baggage but record nothing.
package tracer
