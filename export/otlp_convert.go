package export

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/flowtrace/flowtrace/tracer"
)

// Default instrumentation scope written into OTLP batches.
const (
	DefaultScopeName    = "github.com/flowtrace/flowtrace"
	DefaultScopeVersion = "0.1.0"
)

// RefTypeKey is the link attribute holding the OpenTracing reference type a
// link came from (tracer.Link.Type: "child_of", "follows_from" or "link").
const RefTypeKey = "opentracing.ref_type"

// ToOTLP converts finished spans into one OTLP ResourceSpans with one
// ScopeSpans. Nil spans are skipped; for no spans it returns nil.
//
// Conversion rules:
//   - every string (names, keys, values, status message, tracestate) is made
//     valid UTF-8 with strings.ToValidUTF8, invalid bytes becoming U+FFFD, so
//     one bad span cannot make protobuf marshalling fail for a whole batch;
//   - attribute values: string, bool, every int kind and uint8..uint32 as
//     OTLP int; uint, uint64 and uintptr as int when <= math.MaxInt64 and
//     otherwise as their decimal string (never clamped or wrapped); float32
//     and float64 as double; []byte as bytes; nil as an empty value; any
//     other type as fmt.Sprint text;
//   - a link's Type becomes the link attribute RefTypeKey;
//   - the W3C trace flags go into the low byte of Span.Flags and Link.Flags;
//   - negative dropped counts become 0; zero times become 0.
//
// The result shares no memory with spans; it is allocated in a few slabs per
// call, so a batch of n spans costs far fewer than n allocations per field.
func ToOTLP(resource []tracer.Attribute, scopeName, scopeVersion string, spans []*tracer.SpanData) []*tracepb.ResourceSpans {
	n := 0
	nattr := len(resource)
	for _, s := range spans {
		if s == nil {
			continue
		}
		n++
		nattr += len(s.Attributes) + len(s.Links)
		for i := range s.Events {
			nattr += len(s.Events[i].Attributes)
		}
	}
	if n == 0 {
		return nil
	}
	c := converter{}
	c.kvs.chunk = nattr
	c.anys.chunk = nattr
	c.strs.chunk = nattr
	c.ints.chunk = nattr / 2

	pbSpans := make([]*tracepb.Span, 0, n)
	spanSlab := make([]tracepb.Span, n)
	statusSlab := make([]tracepb.Status, n)
	ids := make([]byte, 0, n*32)
	for _, s := range spans {
		if s == nil {
			continue
		}
		ps := &spanSlab[len(pbSpans)]
		st := &statusSlab[len(pbSpans)]
		pbSpans = append(pbSpans, ps)

		ids = append(ids, s.SpanContext.TraceID[:]...)
		ps.TraceId = ids[len(ids)-16 : len(ids) : len(ids)]
		ids = append(ids, s.SpanContext.SpanID[:]...)
		ps.SpanId = ids[len(ids)-8 : len(ids) : len(ids)]
		if s.ParentSpanID.IsValid() {
			ids = append(ids, s.ParentSpanID[:]...)
			ps.ParentSpanId = ids[len(ids)-8 : len(ids) : len(ids)]
		}
		ps.TraceState = validUTF8(s.SpanContext.TraceState)
		ps.Flags = uint32(s.SpanContext.Flags)
		ps.Name = validUTF8(s.Name)
		ps.Kind = tracepb.Span_SpanKind(s.Kind)
		ps.StartTimeUnixNano = unixNano(s.Start)
		ps.EndTimeUnixNano = unixNano(s.End)
		ps.Attributes = c.attrs(s.Attributes)
		ps.DroppedAttributesCount = count(s.DroppedAttributes)
		ps.DroppedEventsCount = count(s.DroppedEvents)
		ps.DroppedLinksCount = count(s.DroppedLinks)
		st.Code = tracepb.Status_StatusCode(s.Status)
		st.Message = validUTF8(s.StatusMessage)
		ps.Status = st

		if len(s.Events) > 0 {
			evSlab := make([]tracepb.Span_Event, len(s.Events))
			ps.Events = make([]*tracepb.Span_Event, len(s.Events))
			for i := range s.Events {
				e := &s.Events[i]
				pe := &evSlab[i]
				pe.TimeUnixNano = unixNano(e.Time)
				pe.Name = validUTF8(e.Name)
				pe.Attributes = c.attrs(e.Attributes)
				ps.Events[i] = pe
			}
		}
		if len(s.Links) > 0 {
			lSlab := make([]tracepb.Span_Link, len(s.Links))
			ps.Links = make([]*tracepb.Span_Link, len(s.Links))
			for i := range s.Links {
				l := &s.Links[i]
				pl := &lSlab[i]
				ids = append(ids, l.SpanContext.TraceID[:]...)
				pl.TraceId = ids[len(ids)-16 : len(ids) : len(ids)]
				ids = append(ids, l.SpanContext.SpanID[:]...)
				pl.SpanId = ids[len(ids)-8 : len(ids) : len(ids)]
				pl.TraceState = validUTF8(l.SpanContext.TraceState)
				pl.Flags = uint32(l.SpanContext.Flags)
				if l.Type != "" {
					pl.Attributes = []*commonpb.KeyValue{c.kv(RefTypeKey, l.Type)}
				}
				ps.Links[i] = pl
			}
		}
	}

	return []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: c.attrs(resource)},
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope: &commonpb.InstrumentationScope{
				Name:    validUTF8(scopeName),
				Version: validUTF8(scopeVersion),
			},
			Spans: pbSpans,
		}},
	}}
}

// slab hands out pointers into chunks allocated at once.
type slab[T any] struct {
	buf   []T
	chunk int
}

func (s *slab[T]) next() *T {
	if len(s.buf) == 0 {
		if s.chunk < 16 {
			s.chunk = 16
		}
		s.buf = make([]T, s.chunk)
	}
	p := &s.buf[0]
	s.buf = s.buf[1:]
	return p
}

type converter struct {
	kvs  slab[commonpb.KeyValue]
	anys slab[commonpb.AnyValue]
	strs slab[commonpb.AnyValue_StringValue]
	ints slab[commonpb.AnyValue_IntValue]
}

func (c *converter) attrs(attrs []tracer.Attribute) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, len(attrs))
	for i := range attrs {
		out[i] = c.kv(attrs[i].Key, attrs[i].Value)
	}
	return out
}

func (c *converter) kv(key string, v any) *commonpb.KeyValue {
	kv := c.kvs.next()
	kv.Key = validUTF8(key)
	kv.Value = c.value(v)
	return kv
}

func (c *converter) str(s string) *commonpb.AnyValue {
	sv := c.strs.next()
	sv.StringValue = validUTF8(s)
	av := c.anys.next()
	av.Value = sv
	return av
}

func (c *converter) value(v any) *commonpb.AnyValue {
	switch v := v.(type) {
	case string:
		return c.str(v)
	case bool:
		av := c.anys.next()
		av.Value = &commonpb.AnyValue_BoolValue{BoolValue: v}
		return av
	case int:
		return c.int(int64(v))
	case int8:
		return c.int(int64(v))
	case int16:
		return c.int(int64(v))
	case int32:
		return c.int(int64(v))
	case int64:
		return c.int(v)
	case uint8:
		return c.int(int64(v))
	case uint16:
		return c.int(int64(v))
	case uint32:
		return c.int(int64(v))
	case uint:
		return c.uint(uint64(v))
	case uint64:
		return c.uint(v)
	case uintptr:
		return c.uint(uint64(v))
	case float32:
		return c.double(float64(v))
	case float64:
		return c.double(v)
	case []byte:
		av := c.anys.next()
		av.Value = &commonpb.AnyValue_BytesValue{BytesValue: append([]byte(nil), v...)}
		return av
	case nil:
		return c.anys.next()
	default:
		return c.str(fmt.Sprint(v))
	}
}

func (c *converter) int(v int64) *commonpb.AnyValue {
	iv := c.ints.next()
	iv.IntValue = v
	av := c.anys.next()
	av.Value = iv
	return av
}

func (c *converter) double(v float64) *commonpb.AnyValue {
	av := c.anys.next()
	av.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: v}
	return av
}

func (c *converter) uint(v uint64) *commonpb.AnyValue {
	if v > math.MaxInt64 {
		return c.str(strconv.FormatUint(v, 10))
	}
	return c.int(int64(v))
}

// validUTF8 returns s with invalid UTF-8 replaced by U+FFFD; valid strings
// are returned as they are, without allocating.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

func count(n int) uint32 {
	if n <= 0 {
		return 0
	}
	if uint64(n) > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(n)
}
