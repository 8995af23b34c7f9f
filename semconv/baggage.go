package semconv

import (
	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/propagation/flowid"
)

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

// FromSpanContext reads the critical operation and traffic source from the
// baggage of sc, typically a context just extracted from a request, before
// any span starts. A nil sc gives the zero Routing.
func FromSpanContext(sc opentracing.SpanContext) Routing {
	var r Routing
	if sc == nil {
		return r
	}
	sc.ForeachBaggageItem(func(k, v string) bool {
		switch k {
		case CriticalOperationKey:
			r.CriticalOperation = v
		case TrafficSourceKey:
			r.TrafficSource = v
		}
		return true
	})
	return r
}

// Valid returns r with the fields that the default registry does not
// allow (see ValidCriticalOperation and ValidTrafficSource) cleared.
func (r Routing) Valid() Routing {
	if r.CriticalOperation != "" && !ValidCriticalOperation(r.CriticalOperation) {
		r.CriticalOperation = ""
	}
	if r.TrafficSource != "" && !ValidTrafficSource(r.TrafficSource) {
		r.TrafficSource = ""
	}
	return r
}

// ValidCriticalOperation reports whether name is an allowed value of the
// critical_operation tag in the default registry (by default a lower-case
// name of at most 64 bytes such as "checkout" or "add-to-cart").
func ValidCriticalOperation(name string) bool {
	return name != "" && Default().ValidString(CriticalOperationKey, name)
}

// ValidTrafficSource reports whether s is an allowed value of the
// traffic_source tag in the default registry (web, app, push, load-test,
// internal, unknown).
func ValidTrafficSource(s string) bool {
	return s != "" && Default().ValidString(TrafficSourceKey, s)
}

// ValidBaggageTag is the check flowtrace.Start gives the tracer
// (tracer.WithBaggageValidator) for the baggage items it copies into tags:
// critical_operation and traffic_source must be allowed by the default
// registry (see ValidCriticalOperation and ValidTrafficSource), flow_id and
// any other key must be a valid flow id (1 to 128 bytes of
// [A-Za-z0-9._~+/=:-]). Values that fail are neither tagged nor propagated.
func ValidBaggageTag(key, value string) bool {
	switch key {
	case CriticalOperationKey:
		return ValidCriticalOperation(value)
	case TrafficSourceKey:
		return ValidTrafficSource(value)
	}
	return flowid.Valid(value)
}

// IsLoadTest reports whether the request is load-test traffic, which SLOs
// leave out.
func (r Routing) IsLoadTest() bool { return r.TrafficSource == TrafficSourceLoadTest }

// Tag sets the non-empty fields as tags on span, without touching its
// baggage: what a service that inherited them does.
func (r Routing) Tag(span opentracing.Span) {
	if r.CriticalOperation != "" {
		CriticalOperation.Set(span, r.CriticalOperation)
	}
	if r.TrafficSource != "" {
		TrafficSource.Set(span, r.TrafficSource)
	}
}

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
