package export

import "github.com/flowtrace/flowtrace/tracer"

// Fixed costs, in bytes, used by EstimateSize: roughly the Go structs plus
// their OTLP encoding overhead.
const (
	spanOverhead  = 160
	attrOverhead  = 32
	eventOverhead = 48
	linkOverhead  = 64
	scalarSize    = 8
)

// EstimateSize returns a cheap estimate of the memory a span holds: fixed
// per-item costs plus the length of every string. It does not allocate and
// is what the Batcher's byte bound counts.
func EstimateSize(s *tracer.SpanData) int64 {
	if s == nil {
		return 0
	}
	n := int64(spanOverhead + len(s.Name) + len(s.StatusMessage) + len(s.SpanContext.TraceState) + len(s.Scope.Name) + len(s.Scope.Version))
	n += attrsSize(s.Attributes)
	for i := range s.Events {
		n += int64(eventOverhead+len(s.Events[i].Name)) + attrsSize(s.Events[i].Attributes)
	}
	for i := range s.Links {
		n += int64(linkOverhead + len(s.Links[i].Type) + len(s.Links[i].SpanContext.TraceState))
	}
	return n
}

func attrsSize(attrs []tracer.Attribute) int64 {
	n := int64(len(attrs)) * attrOverhead
	for i := range attrs {
		n += int64(len(attrs[i].Key))
		switch v := attrs[i].Value.(type) {
		case string:
			n += int64(len(v))
		case []byte:
			n += int64(len(v))
		case []string:
			for _, e := range v {
				n += scalarSize + int64(len(e))
			}
		case []bool:
			n += scalarSize * int64(len(v))
		case []int64:
			n += scalarSize * int64(len(v))
		case []float64:
			n += scalarSize * int64(len(v))
		default:
			n += scalarSize
		}
	}
	return n
}
