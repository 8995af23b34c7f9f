// Package tracer is flowtrace's OpenTracing tracer.
//
// [Tracer] implements opentracing.Tracer. Sampled spans, once finished, are
// handed as [SpanData] to a [SpanProcessor] (the export package's batcher
// converts them to OTLP off the request path); unsampled spans carry their
// context and baggage but record nothing.
//
// # Sampling
//
// A [Sampler] decides for each new span; [ParentBased] follows the caller.
// [TraceIDRatio] is OpenTelemetry's consistent probability sampler (OTEP
// 235): a trace is kept iff the [Threshold] of the ratio is at most the
// trace's randomness ([SamplingParameters.Randomness]: the rv sub-key of
// the tracestate's ot entry, else the low 56 bits of the trace id). A
// sampled span records sampling.probability and publishes the threshold as
// ot=th, which OpenTelemetry SDKs and the collector's samplers read. A
// decision made any other way (a [RateLimited] budget, a sampling.priority
// that forces the span, a caller whose sampled flag contradicts its th)
// erases th; a forced span records probability 1.
//
// Two caller states come from B3 and Jaeger (propagation.SpanContext):
// a deferred decision (B3 without a sampling state) is not followed, since
// there is none; [ParentBased] asks its root sampler, and the span's
// context, sent on, says what was decided. A caller's debug flag forces
// sampling as sampling.priority=1 does, and every span of the trace in this
// process carries it on (a span's own sampling.priority=0 still turns it
// off, and then debug is not sent).
//
// Recording is separate from sampling: [NonRecording] keeps the sampler
// and its decisions (they travel in the sampled flag) and records nothing.
// [PassThrough] is the tracer of a disabled SDK: it makes no decisions, a
// child carries its caller's context unchanged, and a span with no caller
// has no trace context to inject (its baggage, the flow id, still travels).
//
// # Limits
//
// Whatever the caller passes, a span stays bounded: [Limits] is the one
// limit policy (tag, event and link counts, value, name and key lengths,
// the tracestate stored); baggage is held to the W3C limits of 64 members
// and 8192 bytes; values of the baggage items copied into tags must pass
// [WithBaggageValidator]; and a tag value's String or an error's Error that
// panics is recovered and recorded as [PanicPlaceholder]. What is dropped
// or recovered is counted in [Stats] or in the span's dropped counts.
package tracer
