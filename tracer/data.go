package tracer

import (
	"context"
	"time"

	"github.com/flowtrace/flowtrace/propagation"
)

// Attribute is a span tag. Value is one of string, bool, int, int8, int16,
// int32, int64, uint, uint8, uint16, uint32, uint64, float32 or float64, or
// an array of one type: []string, []bool, []int64 or []float64 (copied when
// set); other tag values are turned into strings when they are set.
type Attribute struct {
	Key   string
	Value any
}

// Event is a span log entry (OpenTracing LogFields / LogKV).
type Event struct {
	Time       time.Time
	Name       string
	Attributes []Attribute
}

// Link relates a span to a span context other than its parent.
type Link struct {
	SpanContext propagation.SpanContext
	// Type is "follows_from", "child_of" or "link": the OpenTracing reference
	// the link came from.
	Type string
}

// SpanKind is the role of a span in a call, as in OTLP.
type SpanKind int8

// Span kinds; values match OTLP's enum.
const (
	KindUnspecified SpanKind = 0
	KindInternal    SpanKind = 1
	KindServer      SpanKind = 2
	KindClient      SpanKind = 3
	KindProducer    SpanKind = 4
	KindConsumer    SpanKind = 5
)

// StatusCode is a span's status, as in OTLP.
type StatusCode int8

// Status codes; values match OTLP's enum.
const (
	StatusUnset StatusCode = 0
	StatusOK    StatusCode = 1
	StatusError StatusCode = 2
)

// Scope is the instrumentation scope a span was recorded by: an
// OpenTelemetry Tracer's name and version. The zero Scope is the
// exporter's own (flowtrace's), which OpenTracing spans have.
type Scope struct {
	Name, Version string
}

// SpanData is a finished, sampled span as handed to a SpanProcessor. The
// tracer never changes it after handing it over, and the processor owns it.
type SpanData struct {
	SpanContext  propagation.SpanContext
	ParentSpanID propagation.SpanID
	Name         string
	Kind         SpanKind
	Start, End   time.Time
	Attributes   []Attribute
	Events       []Event
	Links        []Link
	Status       StatusCode
	// StatusMessage describes an error status.
	StatusMessage string

	DroppedAttributes int
	DroppedEvents     int
	DroppedLinks      int

	// Scope is the instrumentation scope; exporters group spans by it
	// (OTLP ScopeSpans).
	Scope Scope
}

// SpanProcessor receives finished sampled spans. OnEnd is called on the
// goroutine that finished the span and must not block: it is on the hot
// path of the traced service.
type SpanProcessor interface {
	OnEnd(s *SpanData)
	ForceFlush(ctx context.Context) error
	Shutdown(ctx context.Context) error
}
