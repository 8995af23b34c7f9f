package triage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/stats"
	"github.com/flowtrace/flowtrace/analysis/internal/timeline"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Kind of cause.
const (
	KindError   = "error"
	KindLatency = "latency"
)

// Cause is a span blamed for one bad event.
type Cause struct {
	Span *trace.Span
	Kind string // KindError or KindLatency
	// SelfTime is the cause's self-time within the event, for latency.
	SelfTime time.Duration
}

// Find returns the span that explains a bad event span ev in t (see the
// package documentation). failed says whether the event failed; otherwise
// it was slow.
func Find(t *trace.Trace, ev *trace.Span, failed bool) Cause {
	if failed {
		return Cause{Span: errorCause(t, ev), Kind: KindError}
	}
	best := Cause{Span: ev, Kind: KindLatency}
	bestDepth := -1
	t.Walk(ev, func(s *trace.Span, depth int) bool {
		if s.Start.After(ev.End) {
			return false
		}
		self := t.SelfTimeWithin(s, ev.Start, ev.End)
		if self > best.SelfTime || (self == best.SelfTime && depth > bestDepth) {
			best, bestDepth = Cause{Span: s, Kind: KindLatency, SelfTime: self}, depth
		}
		return true
	})
	return best
}

// errorCause follows ev's error down through the failed children whose
// error reached their parent, and returns the last span on that path: the
// one whose error is its own.
func errorCause(t *trace.Trace, ev *trace.Span) *trace.Span {
	s := ev
	for range len(t.Spans) { // a path is never longer; bounds a malformed cycle
		next := propagated(t, s, ev.End)
		if next == nil {
			break
		}
		s = next
	}
	return s
}

// propagated returns the failed child of s whose error s returned: of the
// children that failed before until and were not recovered from, the one
// that ended last (the parent was waiting for it when it failed); nil when
// none, so the error is s's own.
func propagated(t *trace.Trace, s *trace.Span, until time.Time) *trace.Span {
	kids := t.Children(s)
	var best *trace.Span
	for _, c := range kids {
		if !c.Error || c.Start.After(until) || recovered(kids, c) {
			continue
		}
		if best == nil || c.End.After(best.End) || (c.End.Equal(best.End) && c.Start.After(best.Start)) {
			best = c
		}
	}
	return best
}

// recovered reports whether the parent recovered from failed child c: a
// sibling of the same kind that started after c ended succeeded, and it is
// either a retry (same name) or the first such sibling (a fallback, the
// next thing the parent tried).
func recovered(kids []*trace.Span, c *trace.Span) bool {
	first := true
	for _, d := range kids { // in start order
		if d == c || d.Kind != c.Kind || d.Start.Before(c.End) {
			continue
		}
		if !d.Error && (first || d.Name == c.Name) {
			return true
		}
		first = false
	}
	return false
}

// Culprit is a cause aggregated over bad events.
type Culprit struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Team      string `json:"team"`
	// Channel is the team's on-call channel, and TeamSource where the team
	// came from ("file" or "attribute"), when an ownership file is given
	// ([AssignOwners]); AttributeTeam is the span's team attribute when the
	// file names another team.
	Channel       string   `json:"channel,omitempty"`
	TeamSource    string   `json:"team_source,omitempty"`
	AttributeTeam string   `json:"attribute_team,omitempty"`
	Kind          string   `json:"kind"`
	Events        int      `json:"events"`   // observed bad events blamed on it
	Weighted      float64  `json:"weighted"` // the same, weighted
	Share         float64  `json:"share"`    // of the weighted bad events
	Examples      []string `json:"example_trace_ids"`
}

// Report is the triage of one SLO.
type Report struct {
	SLO       string    `json:"slo"`
	Selector  string    `json:"selector"`
	BadEvents int       `json:"bad_events"`
	Culprits  []Culprit `json:"culprits"` // most to least blamed
	// Integrity is what was broken or corrected in the data.
	Integrity trace.Integrity `json:"integrity"`
	// EdgeResolution is 0 when every bad event was kept exactly, else the
	// width of the time buckets they were merged into ([Triager]).
	EdgeResolution time.Duration `json:"window_edge_resolution_ns,omitempty"`
}

// Top returns the most blamed culprit, or nil with no bad events.
func (r *Report) Top() *Culprit {
	if len(r.Culprits) == 0 {
		return nil
	}
	return &r.Culprits[0]
}

// Analyze triages the bad events of s in its window ending at now, after
// correcting each trace's clock skew ([trace.CorrectAll]). It is a loop
// over a [Triager].
func Analyze(s slo.SLO, traces []*trace.Trace, now time.Time) *Report {
	tr := NewTriager([]slo.SLO{s})
	for _, t := range traces {
		tr.Add(t)
	}
	return tr.Report(0, now)
}

// Triager triages SLOs trace by trace, for streamed input: each trace is
// corrected ([trace.StreamCorrector], the exact streaming form of
// CorrectAll) and the cause of each bad event is found while the trace is
// at hand; what is kept is the cause's name, the event's time and weight
// and its trace id, by culprit in a bounded timeline (exact up to
// [timeline.DefaultExact] bad events per culprit, then in time buckets
// whose width [Report.EdgeResolution] gives), because the window ends at a
// time known only at the end of the input.
type Triager struct {
	slos []slo.SLO
	corr *trace.StreamCorrector
	per  []map[culpritKey]*timeline.Timeline[blamed]

	exact, buckets int // timeline bounds (0: the defaults)
}

type culpritKey struct{ svc, op, team, kind string }

// blamed is bad events blamed on one culprit: their number, weight and
// the first examples in trace order (trace start, trace id, event).
type blamed struct {
	n        int
	w        float64
	examples []example
}

type example struct {
	start int64
	id    string
	seq   int
}

func (e example) cmp(o example) int {
	return cmp.Or(cmp.Compare(e.start, o.start), strings.Compare(e.id, o.id), cmp.Compare(e.seq, o.seq))
}

const maxExamples = 3

func addBlamed(d *blamed, s blamed) {
	d.n += s.n
	d.w += s.w
	d.examples = firstExamples(append(d.examples, s.examples...))
}

func firstExamples(ex []example) []example {
	slices.SortFunc(ex, example.cmp)
	if len(ex) > maxExamples {
		ex = slices.Clip(ex[:maxExamples])
	}
	return ex
}

// NewTriager returns a Triager of slos.
func NewTriager(slos []slo.SLO) *Triager { return newTriager(slos, 0, 0) }

// newTriager bounds the timelines (0: the defaults).
func newTriager(slos []slo.SLO, exact, buckets int) *Triager {
	t := &Triager{slos: slos, corr: trace.NewStreamCorrector(trace.DefaultMaxSkew), exact: exact, buckets: buckets}
	for range slos {
		t.per = append(t.per, map[culpritKey]*timeline.Timeline[blamed]{})
	}
	return t
}

// Add corrects one trace and finds the causes of its bad events.
func (t *Triager) Add(tr *trace.Trace) {
	var start int64 // the order of Assemble's traces, before correction
	if len(tr.Spans) > 0 {
		start = tr.Spans[0].Start.UnixNano()
	}
	tr, _, _ = t.corr.Correct(tr)
	one := []*trace.Trace{tr}
	for i, s := range t.slos {
		for seq, ev := range slo.Events(s, one) {
			if !ev.Bad {
				continue
			}
			c := Find(ev.Trace, ev.Span, ev.Span.Error)
			k := culpritKey{c.Span.Service, c.Span.Name, c.Span.Team(), c.Kind}
			l := t.per[i][k]
			if l == nil {
				l = timeline.New(t.exact, t.buckets, addBlamed)
				t.per[i][k] = l
			}
			l.Add(ev.Time, blamed{n: 1, w: ev.Weight, examples: []example{{start, tr.ID, seq}}})
		}
	}
}

// Report returns the triage of the i-th SLO in its window ending at now.
func (t *Triager) Report(i int, now time.Time) *Report {
	s := t.slos[i]
	rep := &Report{SLO: s.Name, Selector: selectorOf(s), Integrity: t.corr.Integrity()}
	var total float64
	from := now.Add(-s.Window)
	for k, l := range t.per[i] {
		var b blamed
		l.Each(from, now, func(v blamed) {
			b.n += v.n
			b.w += v.w
			b.examples = append(b.examples, v.examples...)
		})
		rep.EdgeResolution = max(rep.EdgeResolution, l.Resolution())
		if b.n == 0 {
			continue
		}
		c := Culprit{Service: k.svc, Operation: k.op, Team: k.team, Kind: k.kind, Events: b.n, Weighted: b.w}
		for _, e := range firstExamples(b.examples) {
			c.Examples = append(c.Examples, e.id)
		}
		total += b.w
		rep.BadEvents += b.n
		rep.Culprits = append(rep.Culprits, c)
	}
	for i := range rep.Culprits {
		c := &rep.Culprits[i]
		c.Share = stats.Round(stats.Ratio(c.Weighted, total), 4)
		c.Weighted = stats.Round(c.Weighted, 6)
	}
	sortCulprits(rep.Culprits)
	return rep
}

// sortCulprits orders culprits from most to least blamed.
func sortCulprits(cs []Culprit) {
	slices.SortFunc(cs, func(a, b Culprit) int {
		return cmp.Or(cmp.Compare(b.Weighted, a.Weighted), cmp.Compare(b.Events, a.Events),
			strings.Compare(a.Service, b.Service), strings.Compare(a.Operation, b.Operation), strings.Compare(a.Kind, b.Kind))
	})
}

func selectorOf(s slo.SLO) string {
	if s.CriticalOperation != "" {
		return "critical_operation=" + s.CriticalOperation
	}
	return strings.TrimSpace(s.Service + " " + s.Operation)
}

// WriteText writes reports in human-readable form.
func WriteText(w io.Writer, reps []*Report) error {
	var b strings.Builder
	for i, r := range reps {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "SLO %s (%s): %d bad events\n", r.SLO, r.Selector, r.BadEvents)
		if note := r.Integrity.String(); note != "" {
			fmt.Fprintf(&b, "  data: %s\n", note)
		}
		if r.EdgeResolution > 0 {
			fmt.Fprintf(&b, "  more bad events than kept exactly: the window's start resolved to %s\n", r.EdgeResolution)
		}
		top := r.Top()
		if top == nil {
			b.WriteString("  nothing to triage\n")
			continue
		}
		team := top.Team
		if team == "" {
			team = "(unknown: no team attribute, not in an ownership file)"
		}
		if top.Channel != "" {
			team += " at " + top.Channel
		}
		fmt.Fprintf(&b, "  most likely cause: %s %q (%s), %.0f%% of bad events: page team %s\n",
			top.Service, top.Operation, top.Kind, 100*top.Share, team)
		for _, c := range r.Culprits {
			fmt.Fprintf(&b, "  %5.1f%%  %4d events  %-7s  %-10s %-24q team=%s  e.g. %s\n", 100*c.Share, c.Events, c.Kind,
				c.Service, c.Operation, c.Team, strings.Join(c.Examples, ","))
			if c.AttributeTeam != "" {
				fmt.Fprintf(&b, "          note: %s's spans say team=%s; the ownership file's %s is used\n", c.Service, c.AttributeTeam, c.Team)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes reports as indented JSON.
func WriteJSON(w io.Writer, reps []*Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(reps)
}
