package propagation

// Carrier keys of the built-in formats.
const (
	baggageHeader = "baggage"
	flowIDHeader  = "X-Flow-ID"

	b3SingleHeader       = "b3"
	b3TraceIDHeader      = "X-B3-TraceId"
	b3SpanIDHeader       = "X-B3-SpanId"
	b3ParentSpanIDHeader = "X-B3-ParentSpanId"
	b3SampledHeader      = "X-B3-Sampled"
	b3FlagsHeader        = "X-B3-Flags"

	jaegerHeader        = "uber-trace-id"
	jaegerBaggagePrefix = "uberctx-"
)
