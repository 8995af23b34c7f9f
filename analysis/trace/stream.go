package trace

import (
	"maps"
	"strconv"
	"time"
)

// DefaultIndexSpans is how many of the latest spans a bounded [SpanIndex]
// remembers (about 15 MB): a link resolves when its target is among them,
// and counts as dangling otherwise. Consumers link to producer spans
// written seconds before them, far fewer spans back than this.
const DefaultIndexSpans = 1 << 16

// Target is a span found through a [SpanIndex]: a copy holding its ids,
// service, name, kind and how it was called (rpc.system=grpc,
// messaging.system=kafka, or an HTTP attribute), not the span itself.
type Target struct {
	Span *Span
}

// Protocol bits a SpanIndex keeps of a span.
const (
	protoGRPC uint8 = 1 << iota
	protoKafka
	protoHTTP
)

// indexed is what the index keeps of a span: 40 bytes, the strings shared
// with the span's resource and name.
type indexed struct {
	service, name string
	kind          Kind
	proto         uint8
}

// idKey is a trace and span id as numbers: 24 bytes that keep no string
// of the span alive. Ids that are not lower-case hex of at most 32 and 16
// digits use the string map instead.
type idKey struct{ hi, lo, span uint64 }

func parseKey(l Link) (idKey, bool) {
	if len(l.TraceID) > 32 || len(l.SpanID) > 16 || len(l.TraceID) == 0 || len(l.SpanID) == 0 {
		return idKey{}, false
	}
	var k idKey
	var ok bool
	t := l.TraceID
	if len(t) > 16 {
		if k.hi, ok = hexU64(t[:len(t)-16]); !ok {
			return idKey{}, false
		}
		t = t[len(t)-16:]
	}
	if k.lo, ok = hexU64(t); !ok {
		return idKey{}, false
	}
	if k.span, ok = hexU64(l.SpanID); !ok {
		return idKey{}, false
	}
	return k, len(l.TraceID) == 32 && len(l.SpanID) == 16
}

func hexU64(s string) (uint64, bool) {
	var x uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			x = x<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			x = x<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return x, true
}

// SpanIndex finds spans by trace and span id across traces, for links.
// Bounded (NewSpanIndex with n > 0) it keeps the n latest spans added;
// unbounded (n <= 0) every span, as an in-memory tool needs. Spans are
// added as they are read, before their traces are complete, so a link
// resolves whatever order the assembler completes the two traces in.
type SpanIndex struct {
	m     map[idKey]indexed // canonical 32/16-digit hex ids
	other map[Link]indexed  // any other ids
	ring  []ringEntry       // when bounded: the entries, oldest at next
	next  int
	max   int
}

// NewSpanIndex returns an index of the n latest spans (every span when
// n <= 0).
func NewSpanIndex(n int) *SpanIndex {
	return &SpanIndex{m: map[idKey]indexed{}, other: map[Link]indexed{}, max: n}
}

// IndexTraces returns an unbounded index of every span of traces.
func IndexTraces(traces []*Trace) *SpanIndex {
	x := NewSpanIndex(0)
	for _, t := range traces {
		for _, s := range t.Spans {
			x.Add(s)
		}
	}
	return x
}

func (x *SpanIndex) get(l Link) (indexed, bool) {
	if k, ok := parseKey(l); ok {
		v, found := x.m[k]
		return v, found
	}
	v, found := x.other[l]
	return v, found
}

// Add indexes s.
func (x *SpanIndex) Add(s *Span) {
	l := Link{TraceID: s.TraceID, SpanID: s.SpanID}
	k, canonical := parseKey(l)
	if canonical {
		if _, dup := x.m[k]; dup {
			return
		}
	} else if _, dup := x.other[l]; dup {
		return
	}
	v := indexed{service: s.Service, name: s.Name, kind: s.Kind}
	// One pass over each map (span attributes win, as in Span.Str):
	// cheaper than several lookups in two maps for every span read.
	for _, m := range [2]map[string]any{s.Resource, s.Attributes} {
		for key, val := range m {
			switch key {
			case "rpc.system":
				v.proto = setBit(v.proto, protoGRPC, strOf(val) == "grpc")
			case "messaging.system":
				v.proto = setBit(v.proto, protoKafka, strOf(val) == "kafka")
			case "http.method", "http.request.method", "http.route", "url.full":
				if strOf(val) != "" {
					v.proto |= protoHTTP
				}
			}
		}
	}
	if canonical {
		x.m[k] = v
	} else {
		x.other[l] = v
	}
	if x.max <= 0 {
		return
	}
	e := ringEntry{key: k, canonical: canonical}
	if !canonical {
		e.link = l // canonical ids keep no strings alive
	}
	if len(x.ring) < x.max {
		x.ring = append(x.ring, e)
		return
	}
	if old := x.ring[x.next]; old.canonical {
		delete(x.m, old.key)
	} else {
		delete(x.other, old.link)
	}
	x.ring[x.next] = e
	x.next = (x.next + 1) % x.max
}

type ringEntry struct {
	key       idKey
	link      Link
	canonical bool
}

func setBit(b, bit uint8, on bool) uint8 {
	if on {
		return b | bit
	}
	return b &^ bit
}

// strOf formats an attribute value for [Span.Str] and the index: numbers
// and bools as text, "" for nil (absent) and other types.
func strOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// Bounded reports whether the index keeps only the latest spans.
func (x *SpanIndex) Bounded() bool { return x != nil && x.max > 0 }

// Lookup returns the indexed target of l.
func (x *SpanIndex) Lookup(l Link) (Target, bool) {
	if x == nil {
		return Target{}, false
	}
	v, ok := x.get(l)
	if !ok {
		return Target{}, false
	}
	c := &Span{TraceID: l.TraceID, SpanID: l.SpanID, Service: v.service, Name: v.name, Kind: v.kind, Attributes: map[string]any{}}
	if v.proto&protoGRPC != 0 {
		c.Attributes["rpc.system"] = "grpc"
	}
	if v.proto&protoKafka != 0 {
		c.Attributes["messaging.system"] = "kafka"
	}
	if v.proto&protoHTTP != 0 {
		c.Attributes["http.request.method"] = "_OTHER"
	}
	return Target{Span: c}, true
}

// StreamCorrector is the exact streaming form of [CorrectAll] (where
// [Corrector] decides unpaired calls with the services seen so far): [StreamCorrector.Correct]
// corrects one trace at a time, and [StreamCorrector.Integrity] gives the counts
// CorrectAll would give on all of them. Whether a client span without a
// server side is unpaired depends on the services of the whole data
// ([IsUnpairedClient]), so those that name a remote system are held by
// name (memory grows with distinct names, not with spans) and decided at
// the end. A client span that a public endpoint's root server span in
// another trace links to is paired by that link, as CorrectAll pairs it;
// both sides are remembered for the latest [DefaultIndexSpans] of them, so
// a pair further apart in the stream than that is counted unpaired.
type StreamCorrector struct {
	max     time.Duration
	known   map[string]bool
	pending map[string]int // client spans without a server side that name a system, by name
	sum     Integrity
	clients recent[peerName] // client spans without a server side
	entries recent[bool]     // client spans linked to from a root server span of another trace
}

type peerName struct {
	name   string
	system bool
}

// recent is a map that keeps its latest n keys.
type recent[V any] struct {
	m    map[Link]V
	ring []Link
	next int
	n    int
}

func (r *recent[V]) put(l Link, v V) {
	if r.m == nil {
		r.m = map[Link]V{}
	}
	if _, ok := r.m[l]; ok {
		r.m[l] = v
		return
	}
	r.m[l] = v
	if len(r.ring) < r.n {
		r.ring = append(r.ring, l)
		return
	}
	delete(r.m, r.ring[r.next])
	r.ring[r.next] = l
	r.next = (r.next + 1) % r.n
}

// NewStreamCorrector returns a StreamCorrector applying skew corrections
// up to max (<= 0: [DefaultMaxSkew]).
func NewStreamCorrector(max time.Duration) *StreamCorrector {
	return &StreamCorrector{max: max, known: map[string]bool{}, pending: map[string]int{},
		clients: recent[peerName]{n: DefaultIndexSpans}, entries: recent[bool]{n: DefaultIndexSpans}}
}

// Correct corrects t ([Correct]) and returns it with its counts, in which
// UnpairedClients leaves out the spans decided at the end (see
// [StreamCorrector]), and the peer names those spans carry, for callers
// that keep counts per group of traces and settle them with
// [StreamCorrector.Known].
func (c *StreamCorrector) Correct(t *Trace) (*Trace, Integrity, []string) {
	t, in := Correct(t, c.max, nil)
	var names []string
	for _, s := range t.Spans {
		c.known[s.Service] = true
		if s.Kind == KindClient && len(ServerSide(t, s)) == 0 {
			name, system := PeerOf(s)
			if system {
				c.pending[name]++
				names = append(names, name)
			}
			c.clients.put(Link{TraceID: t.ID, SpanID: s.SpanID}, peerName{name, system})
		}
	}
	if r := t.Root(); r != nil && r.Kind == KindServer {
		for _, l := range r.Links {
			if l.TraceID != t.ID {
				c.entries.put(l, true)
			}
		}
	}
	c.sum.Add(in)
	return t, in, names
}

// Known reports whether service has appeared in a trace corrected so far.
func (c *StreamCorrector) Known(service string) bool { return c.known[service] }

// Services returns the services of the traces corrected so far.
func (c *StreamCorrector) Services() map[string]bool { return maps.Clone(c.known) }

// Integrity returns the counts over the traces corrected so far, as
// [CorrectAll] would count them.
func (c *StreamCorrector) Integrity() Integrity {
	in := c.sum
	for name, n := range c.pending {
		if c.known[name] {
			in.UnpairedClients += n
		}
	}
	for l := range c.entries.m {
		if p, ok := c.clients.m[l]; ok && (!p.system || c.known[p.name]) {
			in.UnpairedClients--
		}
	}
	return in
}
