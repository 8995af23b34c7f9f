package semconv

import "github.com/opentracing/opentracing-go"

// Baggage keys that the edge sets and every downstream span carries as a
// tag of the same name (see the tracer's baggage-to-tag option). Incoming
// values of CriticalOperationKey and TrafficSourceKey are discarded at a
// public endpoint: only the edge's own rules set them.
const (
	FlowIDKey            = "flow_id"
	CriticalOperationKey = "critical_operation"
	TrafficSourceKey     = "traffic_source"
)

// Routing is what a request's baggage says about its importance.
type Routing struct {
	// CriticalOperation names the critical user operation, or "".
	CriticalOperation string
	// TrafficSource is where the request came from (web, app, push,
	// load-test, internal), or "".
	TrafficSource string
}

// FromBaggage reads the critical operation and traffic source from span's
// baggage. A nil span gives the zero Routing.
func FromBaggage(span opentracing.Span) Routing {
	if span == nil {
		return Routing{}
	}
	return Routing{
		CriticalOperation: span.BaggageItem(CriticalOperationKey),
		TrafficSource:     span.BaggageItem(TrafficSourceKey),
	}
}

// IsLoadTest reports whether the request is load-test traffic, which SLOs
// leave out.
func (r Routing) IsLoadTest() bool { return r.TrafficSource == TrafficSourceLoadTest }

// Apply puts the non-empty fields into span's baggage and sets them as
// tags, so that they travel downstream and mark this span. Only an edge
// service, after applying its own rules, should call it.
func (r Routing) Apply(span opentracing.Span) {
	if r.CriticalOperation != "" {
		span.SetBaggageItem(CriticalOperationKey, r.CriticalOperation)
		CriticalOperation.Set(span, r.CriticalOperation)
	}
	if r.TrafficSource != "" {
		span.SetBaggageItem(TrafficSourceKey, r.TrafficSource)
		TrafficSource.Set(span, r.TrafficSource)
	}
}
