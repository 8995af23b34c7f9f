package instr

import (
	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/semconv"
)

// Decision is what a server decided about a request before its span
// starts.
type Decision struct {
	// Inherited are the valid values that came with a trusted caller's
	// baggage: the span inherits them and only needs the tags.
	Inherited semconv.Routing
	// Own are the values this server set by its own rules: they go into
	// the span's baggage and tags.
	Own semconv.Routing
	// Force asks for the span to be sampled (the edge's rule for a
	// critical operation).
	Force bool
}

// Rules are a server's rules for critical operations and traffic source.
// The functions run only when needed; each may be nil.
type Rules struct {
	// Public: the caller is untrusted, its baggage is ignored.
	Public bool
	// Critical returns the critical operation of the request, or "".
	Critical func() string
	// Limit caps forced sampling per operation (nil: no cap).
	Limit *tokenbucket.Limiter
	// Traffic returns the traffic source of the request. A result the
	// registry does not allow becomes "unknown"; at a public endpoint
	// without a rule it is "unknown" too.
	Traffic func() string
}

// Decide applies the rules to a request whose extracted context is
// incoming (nil when there is none). A trusted caller's valid values win
// over the server's rules: a trace has one critical operation and one
// traffic source, set where it entered. Invalid inherited values are
// ignored (and replaced when a rule gives one).
func (r *Rules) Decide(incoming opentracing.SpanContext) Decision {
	var d Decision
	if !r.Public && incoming != nil {
		d.Inherited = semconv.FromSpanContext(incoming).Valid()
	}
	if d.Inherited.CriticalOperation == "" && r.Critical != nil {
		if op := r.Critical(); semconv.ValidCriticalOperation(op) {
			d.Own.CriticalOperation = op
			d.Force = r.Limit.Allow(op)
		}
	}
	if d.Inherited.TrafficSource == "" && (r.Traffic != nil || r.Public) {
		ts := ""
		if r.Traffic != nil {
			ts = r.Traffic()
		}
		if !semconv.ValidTrafficSource(ts) {
			ts = semconv.TrafficSourceUnknown
		}
		d.Own.TrafficSource = ts
	}
	return d
}

// MaxCriticalOperations bounds the operation names that get a forced-sampling
// budget of their own (SetCriticalSampling); later names share one overflow
// budget, so that a flood of names cannot grow memory.
const MaxCriticalOperations = 256

// SetCriticalSampling caps, per critical operation, how many requests a
// second the edge forces into sampling (every transport's
// WithCriticalSampling): a token bucket per name holding one second of
// tokens (at least one), from internal/tokenbucket, the bucket the sampler's
// per-operation rate limit uses. A perSecond that is not a positive finite
// number means no cap (a nil Limit allows everything).
func (e *Engine) SetCriticalSampling(perSecond float64) {
	e.Limit = tokenbucket.NewLimiter(tokenbucket.PerSecond(perSecond), MaxCriticalOperations, nil)
}

// ForceSampling is the StartSpan option that asks any OpenTracing tracer
// to sample the span (sampling.priority = 1).
var ForceSampling opentracing.StartSpanOption = semconv.SamplingPriority.Tag(1)

// MarkError marks span as failed, with an "error" event carrying msg: how
// every transport records a failed request, call or message.
func MarkError(span opentracing.Span, msg string) {
	semconv.Error.Set(span, true)
	span.LogFields(semconv.Event.Field("error"), semconv.Message.Field(msg))
}

// TagFromBaggage sets the valid routing items of span's baggage as tags:
// for client, producer and consumer spans, which inherit the baggage of
// their parent.
func TagFromBaggage(span opentracing.Span) {
	semconv.FromBaggage(span).Valid().Tag(span)
}

// TrafficSource is the default traffic-source rule of a public endpoint:
// the single value of the transport's traffic-source key (X-Traffic-Source,
// x-traffic-source) when the registry allows it, else "unknown", also when
// the key is absent: the edge does not guess.
func TrafficSource(values []string) string {
	if len(values) == 1 && semconv.ValidTrafficSource(values[0]) {
		return values[0]
	}
	return semconv.TrafficSourceUnknown
}
