package trace

import (
	"maps"
	"time"
)

// DefaultIndexSpans is how many of the latest spans a bounded [SpanIndex]
// remembers (about 20 MB): a link resolves when its target is among them.
const DefaultIndexSpans = 1 << 17

// Target is what a [SpanIndex] keeps of a span: enough to follow a link to
// it (its service and the attributes that say how it was called), not the
// span itself.
type Target struct {
	Span *Span // a copy holding ids, service, name, kind and indexAttrs only
}

// indexAttrs are the attributes a Target keeps: those the tools read off
// a link's target (the protocol of the call).
var indexAttrs = []string{"rpc.system", "messaging.system", "messaging.destination.name", "http.method", "http.request.method", "http.route", "url.full"}

// SpanIndex finds spans by trace and span id across traces, for links.
// Bounded (NewSpanIndex with n > 0) it keeps the n latest spans added;
// unbounded (n <= 0) every span, as an in-memory tool needs. Spans are
// added as they are read, before their traces are complete, so a link
// resolves whatever order the assembler completes the two traces in.
type SpanIndex struct {
	m    map[Link]Target
	ring []Link
	next int
	max  int
}

// NewSpanIndex returns an index of the n latest spans (every span when
// n <= 0).
func NewSpanIndex(n int) *SpanIndex {
	return &SpanIndex{m: map[Link]Target{}, max: n}
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

// Add indexes s.
func (x *SpanIndex) Add(s *Span) {
	l := Link{TraceID: s.TraceID, SpanID: s.SpanID}
	if _, ok := x.m[l]; ok {
		return
	}
	c := &Span{TraceID: s.TraceID, SpanID: s.SpanID, ParentID: s.ParentID, Service: s.Service, Name: s.Name, Kind: s.Kind}
	for _, k := range indexAttrs {
		if v, ok := s.Attr(k); ok {
			if c.Attributes == nil {
				c.Attributes = map[string]any{}
			}
			c.Attributes[k] = v
		}
	}
	x.m[l] = Target{Span: c}
	if x.max <= 0 {
		return
	}
	if len(x.ring) < x.max {
		x.ring = append(x.ring, l)
		return
	}
	delete(x.m, x.ring[x.next])
	x.ring[x.next] = l
	x.next = (x.next + 1) % x.max
}

// Bounded reports whether the index keeps only the latest spans.
func (x *SpanIndex) Bounded() bool { return x != nil && x.max > 0 }

// Lookup returns the indexed target of l.
func (x *SpanIndex) Lookup(l Link) (Target, bool) {
	if x == nil {
		return Target{}, false
	}
	t, ok := x.m[l]
	return t, ok
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
