// Package edge holds the rules the server middleware (tracehttp,
// tracegrpc) share for critical user operations and traffic source: which
// values a request inherits, which the edge sets itself, and the
// per-operation rate cap on forced sampling.
package edge

import (
	"time"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/semconv"
)

// DefaultMaxOperations bounds the table of a Limiter: operation names
// beyond it share one overflow budget.
const DefaultMaxOperations = 256

// Limiter caps, per critical operation, how many requests a second the
// edge forces into sampling: a token bucket per name holding up to one
// second of tokens (at least one), from internal/tokenbucket, the same
// bucket the sampler's per-operation rate limit uses. A nil *Limiter allows
// everything. It is safe for concurrent use.
type Limiter struct{ l *tokenbucket.Limiter }

// NewLimiter returns a limiter of perSecond forced samples per operation
// and at most maxOperations names (DefaultMaxOperations when <= 0). now
// is the clock (nil: time.Now). A perSecond that is not a positive finite
// number means no cap: NewLimiter returns nil.
func NewLimiter(perSecond float64, maxOperations int, now func() time.Time) *Limiter {
	if maxOperations <= 0 {
		maxOperations = DefaultMaxOperations
	}
	l := tokenbucket.NewLimiter(tokenbucket.PerSecond(perSecond), maxOperations, now)
	if l == nil {
		return nil
	}
	return &Limiter{l: l}
}

// Allow takes a token of op's bucket and reports whether there was one.
func (l *Limiter) Allow(op string) bool {
	if l == nil {
		return true
	}
	return l.l.Allow(op)
}

// Operations returns how many names have a budget of their own.
func (l *Limiter) Operations() int {
	if l == nil {
		return 0
	}
	return l.l.Keys()
}

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
	Limit *Limiter
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

// Apply records the decision on span, which started with the decision's
// StartSpan options: the server's own values go into baggage and tags,
// inherited ones into tags (flowtrace's tracer copies them itself; other
// tracers do not).
func (d Decision) Apply(span opentracing.Span) {
	d.Own.Apply(span)
	d.Inherited.Tag(span)
}

// ForceSampling is the StartSpan option that asks any OpenTracing tracer
// to sample the span (sampling.priority = 1).
var ForceSampling opentracing.StartSpanOption = semconv.SamplingPriority.Tag(1)

// TagFromBaggage sets the valid routing items of span's baggage as tags:
// for client, producer and consumer spans, which inherit the baggage of
// their parent.
func TagFromBaggage(span opentracing.Span) {
	semconv.FromBaggage(span).Valid().Tag(span)
}
