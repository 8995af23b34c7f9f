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
// ScopeSpans per instrumentation scope (tracer.SpanData.Scope), in the
// order each scope first appears; spans with the zero Scope (OpenTracing
// spans) go into the scope scopeName, scopeVersion. Nil spans are skipped;
// for no spans it returns nil.
//
// Conversion rules:
//   - every string (names, keys, values, status message, tracestate) is made
//     valid UTF-8 with strings.ToValidUTF8, invalid bytes becoming U+FFFD, so
//     one bad span cannot make protobuf marshalling fail for a whole batch;
//   - attribute values: string, bool, every int kind and uint8..uint32 as
//     OTLP int; uint, uint64 and uintptr as int when <= math.MaxInt64 and
//     otherwise as their decimal string (never clamped or wrapped); float32
//     and float64 as double; []byte as bytes; []string, []bool, []int64
//     and []float64 as an array of those; nil as an empty value; any other
//     type as fmt.Sprint text;
//   - a link's Type becomes the link attribute RefTypeKey;
//   - the W3C trace flags go into the low byte of Span.Flags and Link.Flags;
//   - negative dropped counts become 0; zero times become 0.
//
// The result shares no memory with spans. Exporters that convert batch
// after batch use a Converter, which reuses the protobuf objects.
func ToOTLP(resource []tracer.Attribute, scopeName, scopeVersion string, spans []*tracer.SpanData) []*tracepb.ResourceSpans {
	var c Converter
	return c.Convert(resource, scopeName, scopeVersion, spans)
}

// Converter converts batches like ToOTLP, reusing the protobuf objects of
// its previous batch: a steady stream of batches allocates next to nothing.
// The result of Convert is valid until the next Convert; a Converter is not
// safe for concurrent use.
type Converter struct {
	kvs      arena[commonpb.KeyValue]
	anys     arena[commonpb.AnyValue]
	strs     arena[commonpb.AnyValue_StringValue]
	ints     arena[commonpb.AnyValue_IntValue]
	bools    arena[commonpb.AnyValue_BoolValue]
	doubles  arena[commonpb.AnyValue_DoubleValue]
	spans    arena[tracepb.Span]
	statuses arena[tracepb.Status]
	events   arena[tracepb.Span_Event]
	links    arena[tracepb.Span_Link]
	scopes   arena[commonpb.InstrumentationScope]
	sss      arena[tracepb.ScopeSpans]
	kvPtrs   ptrArena[commonpb.KeyValue]
	evPtrs   ptrArena[tracepb.Span_Event]
	linkPtrs ptrArena[tracepb.Span_Link]
	spanPtrs ptrArena[tracepb.Span]
	ssPtrs   ptrArena[tracepb.ScopeSpans]
	ids      []byte
	// groups are the batch's scopes in order of first appearance.
	groups []scopeGroup

	resource resourcepb.Resource
	rs       tracepb.ResourceSpans
	rsList   [1]*tracepb.ResourceSpans
}

type scopeGroup struct {
	scope tracer.Scope
	n     int
	ss    *tracepb.ScopeSpans
}

func (c *Converter) reset() {
	c.kvs.reset()
	c.anys.reset()
	c.strs.reset()
	c.ints.reset()
	c.bools.reset()
	c.doubles.reset()
	c.spans.reset()
	c.statuses.reset()
	c.events.reset()
	c.links.reset()
	c.scopes.reset()
	c.sss.reset()
	c.kvPtrs.reset()
	c.evPtrs.reset()
	c.linkPtrs.reset()
	c.spanPtrs.reset()
	c.ssPtrs.reset()
	c.ids = c.ids[:0]
	clear(c.groups)
	c.groups = c.groups[:0]
	c.resource = resourcepb.Resource{}
	c.rs = tracepb.ResourceSpans{}
}

// group returns the index of scope's group, adding it if it is new. A
// batch holds a handful of scopes: a linear search is the cheap way.
func (c *Converter) group(sc tracer.Scope) int {
	for i := range c.groups {
		if c.groups[i].scope == sc {
			return i
		}
	}
	c.groups = append(c.groups, scopeGroup{scope: sc})
	return len(c.groups) - 1
}

// Convert converts spans; see ToOTLP for the rules.
func (c *Converter) Convert(resource []tracer.Attribute, scopeName, scopeVersion string, spans []*tracer.SpanData) []*tracepb.ResourceSpans {
	c.reset()
	def := tracer.Scope{Name: scopeName, Version: scopeVersion}
	scopeOf := func(s *tracer.SpanData) tracer.Scope {
		if s.Scope == (tracer.Scope{}) {
			return def
		}
		return s.Scope
	}
	n, idBytes := 0, 0
	for _, s := range spans {
		if s != nil {
			n++
			idBytes += 32 + 24*len(s.Links)
			c.groups[c.group(scopeOf(s))].n++
		}
	}
	if n == 0 {
		return nil
	}
	if cap(c.ids) < idBytes {
		// ids are sub-sliced out of one buffer: it must not move while the
		// batch is built.
		c.ids = make([]byte, 0, 2*idBytes)
	}
	ssList := c.ssPtrs.take(len(c.groups))
	for i := range c.groups {
		g := &c.groups[i]
		sc := c.scopes.next()
		sc.Name = validUTF8(g.scope.Name)
		sc.Version = validUTF8(g.scope.Version)
		g.ss = c.sss.next()
		g.ss.Scope = sc
		// Spans is filled up to n below.
		g.ss.Spans = c.spanPtrs.take(g.n)[:0]
		ssList[i] = g.ss
	}
	for _, s := range spans {
		if s == nil {
			continue
		}
		ps := c.spans.next()
		ss := c.groups[0].ss
		if len(c.groups) > 1 {
			ss = c.groups[c.group(scopeOf(s))].ss
		}
		ss.Spans = append(ss.Spans, ps)
		ps.TraceId = c.id(s.SpanContext.TraceID[:])
		ps.SpanId = c.id(s.SpanContext.SpanID[:])
		if s.ParentSpanID.IsValid() {
			ps.ParentSpanId = c.id(s.ParentSpanID[:])
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
		st := c.statuses.next()
		st.Code = tracepb.Status_StatusCode(s.Status)
		st.Message = validUTF8(s.StatusMessage)
		ps.Status = st

		if len(s.Events) > 0 {
			ps.Events = c.evPtrs.take(len(s.Events))
			for j := range s.Events {
				e := &s.Events[j]
				pe := c.events.next()
				pe.TimeUnixNano = unixNano(e.Time)
				pe.Name = validUTF8(e.Name)
				pe.Attributes = c.attrs(e.Attributes)
				ps.Events[j] = pe
			}
		}
		if len(s.Links) > 0 {
			ps.Links = c.linkPtrs.take(len(s.Links))
			for j := range s.Links {
				l := &s.Links[j]
				pl := c.links.next()
				pl.TraceId = c.id(l.SpanContext.TraceID[:])
				pl.SpanId = c.id(l.SpanContext.SpanID[:])
				pl.TraceState = validUTF8(l.SpanContext.TraceState)
				pl.Flags = uint32(l.SpanContext.Flags)
				if l.Type != "" {
					pl.Attributes = c.kvPtrs.take(1)
					kv := c.kvs.next()
					kv.Key = RefTypeKey
					kv.Value = c.str(l.Type)
					pl.Attributes[0] = kv
				}
				ps.Links[j] = pl
			}
		}
	}

	c.resource.Attributes = c.attrs(resource)
	c.rs.Resource = &c.resource
	c.rs.ScopeSpans = ssList
	c.rsList[0] = &c.rs
	return c.rsList[:]
}

// id copies an id into the batch's id buffer, which never reallocates
// within a batch (see Convert), so earlier sub-slices stay valid.
func (c *Converter) id(b []byte) []byte {
	if len(c.ids)+len(b) > cap(c.ids) {
		return append([]byte(nil), b...)
	}
	c.ids = append(c.ids, b...)
	return c.ids[len(c.ids)-len(b) : len(c.ids) : len(c.ids)]
}

// arena hands out pointers to zeroed values from chunks it keeps between
// batches. Values handed out stay valid until reset.
type arena[T any] struct {
	chunk []T
	used  int
}

func (a *arena[T]) next() *T {
	if a.used == len(a.chunk) {
		// Earlier values live on in the old chunk; the bigger chunk is the
		// one reused by later batches.
		a.chunk = make([]T, max(16, 2*len(a.chunk)))
		a.used = 0
	}
	a.used++
	return &a.chunk[a.used-1]
}

func (a *arena[T]) reset() {
	clear(a.chunk[:a.used])
	a.used = 0
}

// ptrArena hands out slices of pointers the same way.
type ptrArena[T any] struct {
	chunk []*T
	used  int
}

func (a *ptrArena[T]) take(n int) []*T {
	if a.used+n > len(a.chunk) {
		a.chunk = make([]*T, max(64, 2*len(a.chunk), 2*n))
		a.used = 0
	}
	s := a.chunk[a.used : a.used+n : a.used+n]
	a.used += n
	return s
}

func (a *ptrArena[T]) reset() {
	clear(a.chunk[:a.used])
	a.used = 0
}

func (c *Converter) attrs(attrs []tracer.Attribute) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	out := c.kvPtrs.take(len(attrs))
	for i := range attrs {
		out[i] = c.kv(attrs[i].Key, attrs[i].Value)
	}
	return out
}

func (c *Converter) kv(key string, v any) *commonpb.KeyValue {
	kv := c.kvs.next()
	kv.Key = validUTF8(key)
	kv.Value = c.value(v)
	return kv
}

func (c *Converter) str(s string) *commonpb.AnyValue {
	sv := c.strs.next()
	sv.StringValue = validUTF8(s)
	av := c.anys.next()
	av.Value = sv
	return av
}

func (c *Converter) value(v any) *commonpb.AnyValue {
	switch v := v.(type) {
	case string:
		return c.str(v)
	case bool:
		bv := c.bools.next()
		bv.BoolValue = v
		av := c.anys.next()
		av.Value = bv
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
	case []string:
		vals := make([]*commonpb.AnyValue, len(v))
		for i := range v {
			vals[i] = c.str(v[i])
		}
		return c.array(vals)
	case []bool:
		vals := make([]*commonpb.AnyValue, len(v))
		for i := range v {
			vals[i] = c.value(v[i])
		}
		return c.array(vals)
	case []int64:
		vals := make([]*commonpb.AnyValue, len(v))
		for i := range v {
			vals[i] = c.int(v[i])
		}
		return c.array(vals)
	case []float64:
		vals := make([]*commonpb.AnyValue, len(v))
		for i := range v {
			vals[i] = c.double(v[i])
		}
		return c.array(vals)
	case nil:
		return c.anys.next()
	default:
		return c.str(fmt.Sprint(v))
	}
}

// array wraps converted values; arrays are rare enough to be allocated.
func (c *Converter) array(vals []*commonpb.AnyValue) *commonpb.AnyValue {
	av := c.anys.next()
	av.Value = &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vals}}
	return av
}

func (c *Converter) int(v int64) *commonpb.AnyValue {
	iv := c.ints.next()
	iv.IntValue = v
	av := c.anys.next()
	av.Value = iv
	return av
}

func (c *Converter) double(v float64) *commonpb.AnyValue {
	dv := c.doubles.next()
	dv.DoubleValue = v
	av := c.anys.next()
	av.Value = dv
	return av
}

func (c *Converter) uint(v uint64) *commonpb.AnyValue {
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
