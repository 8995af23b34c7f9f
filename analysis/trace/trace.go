package trace

import (
	"slices"
	"strings"
	"time"
)

// Trace is the spans sharing one trace id, with parent/child indexes.
// Build it with [Assemble] or [New]; do not change Spans afterwards.
type Trace struct {
	ID    string
	Spans []*Span // ordered by start time, then span id

	byID     map[string]*Span
	children map[string][]*Span
	roots    []*Span
	root     *Span
	weight   float64
}

// New builds a Trace from spans of one trace. Spans with a duplicate span id
// after the first are dropped.
func New(id string, spans []*Span) *Trace {
	t := &Trace{ID: id, byID: make(map[string]*Span, len(spans)), children: map[string][]*Span{}}
	for _, s := range spans {
		if _, dup := t.byID[s.SpanID]; dup {
			continue
		}
		t.byID[s.SpanID] = s
		t.Spans = append(t.Spans, s)
	}
	slices.SortStableFunc(t.Spans, bySpanOrder)
	for _, s := range t.Spans {
		if s.ParentID != "" && s.ParentID != s.SpanID && t.byID[s.ParentID] != nil {
			t.children[s.ParentID] = append(t.children[s.ParentID], s)
		} else {
			t.roots = append(t.roots, s)
		}
	}
	t.root = structuralRoot(t.roots)
	t.weight = 1
	for _, r := range append(append([]*Span(nil), t.roots...), t.Spans...) {
		if _, ok := r.Probability(); ok {
			t.weight = r.Weight()
			break
		}
	}
	return t
}

func bySpanOrder(a, b *Span) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	return strings.Compare(a.SpanID, b.SpanID)
}

// Assemble groups spans into traces, ordered by the start of each trace's
// first span, then by trace id.
func Assemble(spans []*Span) []*Trace {
	groups := map[string][]*Span{}
	var order []string
	for _, s := range spans {
		if _, ok := groups[s.TraceID]; !ok {
			order = append(order, s.TraceID)
		}
		groups[s.TraceID] = append(groups[s.TraceID], s)
	}
	out := make([]*Trace, 0, len(order))
	for _, id := range order {
		out = append(out, New(id, groups[id]))
	}
	slices.SortStableFunc(out, func(a, b *Trace) int {
		if c := a.Spans[0].Start.Compare(b.Spans[0].Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Span returns the span with the given id, or nil.
func (t *Trace) Span(id string) *Span { return t.byID[id] }

// Roots returns the spans with no parent in the trace, by start time: the
// root and the orphans ([Trace.Orphans]). A complete trace has one.
func (t *Trace) Roots() []*Span { return t.roots }

// Root returns the trace's root, chosen by structure, not by time: a span
// with no parent id (an orphan, whose parent id names a span missing from
// the data, is never the root); of several, the one where a service
// receives work (server or consumer: the edge), then the earliest. It is
// nil when the trace holds only orphan fragments, so a fragment is not
// mistaken for the request.
func (t *Trace) Root() *Span { return t.root }

// Orphans returns the spans whose parent id names a span that is not in
// the trace (the parent was lost or not sampled), by start time. Each is
// the top of a fragment.
func (t *Trace) Orphans() []*Span {
	var out []*Span
	for _, s := range t.roots {
		if !IsRootID(s.ParentID) {
			out = append(out, s)
		}
	}
	return out
}

// IsRootID reports whether a parent span id means "no parent": empty or all
// zeros (some sources write the zero id).
func IsRootID(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] != '0' {
			return false
		}
	}
	return true
}

func structuralRoot(roots []*Span) *Span {
	var best *Span
	for _, s := range roots { // in start order: the first of a kind wins
		if !IsRootID(s.ParentID) {
			continue
		}
		if best == nil || (s.Receives() && !best.Receives()) {
			best = s
		}
	}
	return best
}

// Children returns the children of s in start order.
func (t *Trace) Children(s *Span) []*Span { return t.children[s.SpanID] }

// Parent returns the parent of s, or nil for a root.
func (t *Trace) Parent(s *Span) *Span {
	if s.ParentID == "" || s.ParentID == s.SpanID {
		return nil
	}
	return t.byID[s.ParentID]
}

// Depth returns the number of ancestors of s in the trace.
func (t *Trace) Depth(s *Span) int {
	d := 0
	for p := t.Parent(s); p != nil && d <= len(t.Spans); p = t.Parent(p) {
		d++
	}
	return d
}

// Walk calls fn for s and its descendants, depth first in start order, with
// each span's depth below s. It stops descending where fn returns false.
func (t *Trace) Walk(s *Span, fn func(s *Span, depth int) bool) {
	seen := map[*Span]bool{}
	var walk func(*Span, int)
	walk = func(s *Span, d int) {
		if seen[s] {
			return
		}
		seen[s] = true
		if !fn(s, d) {
			return
		}
		for _, c := range t.children[s.SpanID] {
			walk(c, d+1)
		}
	}
	walk(s, 0)
}

// SelfTime returns the part of s's duration not covered by any of its
// children (overlapping children count once; time outside s is ignored).
func (t *Trace) SelfTime(s *Span) time.Duration {
	return s.Duration() - covered(s.Start, s.End, t.children[s.SpanID])
}

// SelfTimeWithin is SelfTime counting only time within [from, to].
func (t *Trace) SelfTimeWithin(s *Span, from, to time.Time) time.Duration {
	a, b := s.Start, s.End
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if !b.After(a) {
		return 0
	}
	return b.Sub(a) - covered(a, b, t.children[s.SpanID])
}

// covered returns the length of the union of the spans' intervals clipped
// to [from, to].
func covered(from, to time.Time, spans []*Span) time.Duration {
	type iv struct{ a, b time.Time }
	ivs := make([]iv, 0, len(spans))
	for _, c := range spans {
		a, b := c.Start, c.End
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			ivs = append(ivs, iv{a, b})
		}
	}
	slices.SortFunc(ivs, func(x, y iv) int { return x.a.Compare(y.a) })
	var sum time.Duration
	var cur iv
	for i, v := range ivs {
		switch {
		case i == 0:
			cur = v
		case !v.a.After(cur.b):
			if v.b.After(cur.b) {
				cur.b = v.b
			}
		default:
			sum += cur.b.Sub(cur.a)
			cur = v
		}
	}
	if len(ivs) > 0 {
		sum += cur.b.Sub(cur.a)
	}
	return sum
}

// Duration returns the time from the earliest span start to the latest span
// end.
func (t *Trace) Duration() time.Duration {
	start, end := Window([]*Trace{t})
	return end.Sub(start)
}

// Weight returns how many traces this sampled trace stands for: 1/p for the
// sampling.probability of the root (or, when the root lacks it, of the first
// span that has it); 1 when none has it.
func (t *Trace) Weight() float64 { return t.weight }

// SpanWeight returns s's weight, or the trace's when s has no valid
// sampling.probability of its own.
func (t *Trace) SpanWeight(s *Span) float64 {
	if _, ok := s.Probability(); ok {
		return s.Weight()
	}
	return t.weight
}

// CriticalOperation returns the critical_operation of the root, else of the
// first span that has one; "" when none.
func (t *Trace) CriticalOperation() string { return t.firstStr(AttrCriticalOperation) }

// TrafficSource returns the traffic_source of the root, else of the first
// span that has one; "" when none.
func (t *Trace) TrafficSource() string { return t.firstStr(AttrTrafficSource) }

func (t *Trace) firstStr(key string) string {
	for _, s := range t.roots {
		if v := s.Str(key); v != "" {
			return v
		}
	}
	for _, s := range t.Spans {
		if v := s.Str(key); v != "" {
			return v
		}
	}
	return ""
}

// Window returns the earliest span start and the latest span end over the
// traces; zero times when there are no spans.
func Window(traces []*Trace) (start, end time.Time) {
	for _, t := range traces {
		for _, s := range t.Spans {
			if start.IsZero() || s.Start.Before(start) {
				start = s.Start
			}
			if s.End.After(end) {
				end = s.End
			}
		}
	}
	return start, end
}

// ExcludeTraffic returns the traces whose traffic source is not one of
// sources. With no sources it returns traces unchanged.
func ExcludeTraffic(traces []*Trace, sources ...string) []*Trace {
	if len(sources) == 0 {
		return traces
	}
	out := make([]*Trace, 0, len(traces))
	for _, t := range traces {
		if !slices.Contains(sources, t.TrafficSource()) {
			out = append(out, t)
		}
	}
	return out
}
