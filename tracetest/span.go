package tracetest

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/tracer"
)

// Span is a received span in a neutral, easy-to-assert form. Ids are
// lower-case hex; an absent parent is "". Attribute values are what
// pcommon.Value.AsRaw returns: string, bool, int64, float64, []byte, []any or
// map[string]any.
type Span struct {
	TraceID      string
	SpanID       string
	ParentSpanID string
	TraceState   string
	Flags        uint32
	Name         string
	Kind         tracer.SpanKind
	Start, End   time.Time
	Attributes   map[string]any
	Resource     map[string]any
	Status       Status
	Events       []Event
	Links        []Link

	DroppedAttributes int
	DroppedEvents     int
	DroppedLinks      int

	ScopeName    string
	ScopeVersion string
}

// Status is a span's status.
type Status struct {
	Code    tracer.StatusCode
	Message string
}

// Event is a span event (an OpenTracing log entry).
type Event struct {
	Name       string
	Time       time.Time
	Attributes map[string]any
}

// Link is a span link.
type Link struct {
	TraceID    string
	SpanID     string
	TraceState string
	Attributes map[string]any
}

// Attr returns the span attribute key and whether it is present.
func (s Span) Attr(key string) (any, bool) {
	v, ok := s.Attributes[key]
	return v, ok
}

// flatten turns a batch into the neutral model.
func flatten(td ptrace.Traces) []Span {
	out := make([]Span, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource().Attributes().AsRaw()
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				out = append(out, toSpan(spans.At(k), res, ss.Scope()))
			}
		}
	}
	return out
}

func toSpan(sp ptrace.Span, res map[string]any, scope pcommon.InstrumentationScope) Span {
	s := Span{
		TraceID:           hexOrEmpty(sp.TraceID().IsEmpty(), sp.TraceID().String()),
		SpanID:            hexOrEmpty(sp.SpanID().IsEmpty(), sp.SpanID().String()),
		ParentSpanID:      hexOrEmpty(sp.ParentSpanID().IsEmpty(), sp.ParentSpanID().String()),
		TraceState:        sp.TraceState().AsRaw(),
		Flags:             sp.Flags(),
		Name:              sp.Name(),
		Kind:              tracer.SpanKind(sp.Kind()),
		Start:             sp.StartTimestamp().AsTime(),
		End:               sp.EndTimestamp().AsTime(),
		Attributes:        sp.Attributes().AsRaw(),
		Resource:          res,
		Status:            Status{Code: tracer.StatusCode(sp.Status().Code()), Message: sp.Status().Message()},
		DroppedAttributes: int(sp.DroppedAttributesCount()),
		DroppedEvents:     int(sp.DroppedEventsCount()),
		DroppedLinks:      int(sp.DroppedLinksCount()),
		ScopeName:         scope.Name(),
		ScopeVersion:      scope.Version(),
	}
	evs := sp.Events()
	for i := 0; i < evs.Len(); i++ {
		e := evs.At(i)
		s.Events = append(s.Events, Event{Name: e.Name(), Time: e.Timestamp().AsTime(), Attributes: e.Attributes().AsRaw()})
	}
	links := sp.Links()
	for i := 0; i < links.Len(); i++ {
		l := links.At(i)
		s.Links = append(s.Links, Link{
			TraceID:    hexOrEmpty(l.TraceID().IsEmpty(), l.TraceID().String()),
			SpanID:     hexOrEmpty(l.SpanID().IsEmpty(), l.SpanID().String()),
			TraceState: l.TraceState().AsRaw(),
			Attributes: l.Attributes().AsRaw(),
		})
	}
	return s
}

func hexOrEmpty(empty bool, s string) string {
	if empty {
		return ""
	}
	return s
}
