package estimate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/flowtrace/flowtrace/analysis/internal/stats"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// MinTraces is the number of traces below which an estimate is flagged as
// resting on too few traces.
const MinTraces = 30

// Fanout is how often one operation is called per matching trace.
type Fanout struct {
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	Spans     int     `json:"spans"`  // observed (reached through links: links followed)
	PerTrace  float64 `json:"fanout"` // weighted spans / weighted traces
	PerSecond float64 `json:"expected_per_second"`
	// For a consumer whose calls handle batches: messages per matching
	// trace and per second (omitted when every call handled one message).
	MessagesPerTrace  float64 `json:"messages_fanout,omitempty"`
	MessagesPerSecond float64 `json:"expected_messages_per_second,omitempty"`
	// ViaLinks is how many of Spans were reached through span links from
	// the matching traces rather than being in them.
	ViaLinks int `json:"via_links,omitempty"`
}

// TopicFanout is how many messages one topic receives per matching trace.
type TopicFanout struct {
	Topic     string  `json:"topic"`
	Messages  int     `json:"messages"` // observed producer spans
	PerTrace  float64 `json:"fanout"`
	PerSecond float64 `json:"expected_per_second"`
}

// Operation is the estimate for one forecast key.
type Operation struct {
	Key       string        `json:"key"`
	MatchedBy string        `json:"matched_by"` // critical_operation, root span name, or none
	Forecast  float64       `json:"forecast_per_second"`
	Traces    int           `json:"traces"`          // observed matching traces
	Weighted  float64       `json:"weighted_traces"` // the same, weighted
	Fanout    []Fanout      `json:"fanout"`
	Topics    []TopicFanout `json:"topics"`
	Warning   string        `json:"warning,omitempty"`
	// Notes say what in the matching traces makes the estimate low:
	// client calls without a server side, orphan fragments.
	Notes []string `json:"notes,omitempty"`
}

// Load is the expected total rate of one service operation.
type Load struct {
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	PerSecond float64 `json:"expected_per_second"`
	Spans     int     `json:"spans"` // observed spans the estimate rests on
	// MessagesPerSecond is set for batch consumers (see Fanout).
	MessagesPerSecond float64 `json:"expected_messages_per_second,omitempty"`
}

// TopicLoad is the expected total message rate of one topic.
type TopicLoad struct {
	Topic     string  `json:"topic"`
	PerSecond float64 `json:"expected_per_second"`
	Messages  int     `json:"messages"`
}

// Estimate is the result of [Compute].
type Estimate struct {
	Operations []Operation `json:"operations"`
	Services   []Load      `json:"services"` // by service, then operation
	Topics     []TopicLoad `json:"topics"`
	// Integrity is what was broken or corrected in all the data.
	Integrity trace.Integrity `json:"integrity"`
	// Links counts span links from consumers followed into the data;
	// DanglingLinks those whose target span is not in it.
	Links         int `json:"links"`
	DanglingLinks int `json:"dangling_links"`
}

// linkedRecv is a receiving span reached through one of its links.
type linkedRecv struct {
	svc, op string
	kind    trace.Kind
	share   float64 // of the span's calls this link stands for: 1/messages
}

// Compute estimates the load behind the edge for a forecast from observed
// traces (see the package documentation).
func Compute(traces []*trace.Trace, forecast []Demand) *Estimate {
	a := NewAccumulator(forecast, trace.IndexTraces(traces))
	for _, t := range traces {
		a.Add(t)
	}
	return a.Estimate()
}

// Accumulator computes an [Estimate] trace by trace, in memory that does
// not grow with the number of traces. It counts each key's traces both by
// critical_operation and by root span name, so the choice between the two
// can wait for the last trace. A consumer reached through a link to
// another trace counts for that trace: for one already added it is counted
// at once, for one still being assembled it waits for it.
type Accumulator struct {
	forecast []Demand
	corr     *trace.StreamCorrector
	index    *trace.SpanIndex
	byOp     []matchAcc // per demand: traces whose critical_operation is the key
	byRoot   []matchAcc // per demand: traces whose root span has the key's name
	links    int
	dangling int
	recall   int                     // traces remembered in added (0: all)
	added    map[string]traceInfo    // traces added, for links from later traces
	ring     []string                // ids in added, oldest first, when recall > 0
	next     int                     //
	waiting  map[string][]linkedRecv // trace id not added yet -> receivers linking to it
}

type traceInfo struct {
	op, root string
	weight   float64
}

type opKey struct{ svc, op string }

type opAcc struct {
	n, links  int
	w, msgs   float64
	consumers bool
}

type matchAcc struct {
	traces   int
	weighted float64
	broken   trace.Integrity
	peers    map[string]int // unpaired-or-peer client spans, decided at the end
	ops      map[opKey]*opAcc
	topics   map[string]*opAcc
}

func (m *matchAcc) init() {
	if m.ops == nil {
		m.ops, m.topics, m.peers = map[opKey]*opAcc{}, map[string]*opAcc{}, map[string]int{}
	}
}

func (m *matchAcc) op(svc, name string) *opAcc {
	m.init()
	a := m.ops[opKey{svc, name}]
	if a == nil {
		a = &opAcc{}
		m.ops[opKey{svc, name}] = a
	}
	return a
}

func (m *matchAcc) addTrace(t *trace.Trace, in trace.Integrity, peers []string, viaLinks map[*trace.Span]bool) {
	m.init()
	m.traces++
	m.weighted += t.Weight()
	m.broken.Add(in)
	for _, p := range peers {
		m.peers[p]++
	}
	for _, s := range t.Spans {
		w := t.SpanWeight(s)
		if s.Receives() && !viaLinks[s] {
			a := m.op(s.Service, s.Name)
			a.n++
			a.w += w
			if s.Kind == trace.KindConsumer {
				a.consumers = true
				a.msgs += w * float64(s.Messages())
			} else {
				a.msgs += w
			}
		}
		if topic := s.Str("messaging.destination.name"); topic != "" && s.Kind == trace.KindProducer && s.Str("messaging.system") == "kafka" {
			a := m.topics[topic]
			if a == nil {
				a = &opAcc{}
				m.topics[topic] = a
			}
			a.n++
			a.w += w
		}
	}
}

func (m *matchAcc) addLinked(weight float64, r linkedRecv) {
	a := m.op(r.svc, r.op)
	a.n++
	a.links++
	a.w += weight * r.share
	a.msgs += weight
	a.consumers = a.consumers || r.kind == trace.KindConsumer
}

// NewAccumulator returns an empty Accumulator for forecast that follows
// links through index: [trace.IndexTraces] for traces in memory, a bounded
// [trace.SpanIndex] fed with every span as it is read for a stream (then
// the traces it remembers for links are bounded too, by
// [trace.RecallClosed]); nil follows none.
func NewAccumulator(forecast []Demand, index *trace.SpanIndex) *Accumulator {
	a := &Accumulator{forecast: forecast, corr: trace.NewStreamCorrector(trace.DefaultMaxSkew), index: index,
		byOp: make([]matchAcc, len(forecast)), byRoot: make([]matchAcc, len(forecast)),
		added: map[string]traceInfo{}, waiting: map[string][]linkedRecv{}}
	if index != nil && index.Bounded() {
		a.recall = trace.RecallClosed
	}
	return a
}

// Add corrects and adds one trace.
func (a *Accumulator) Add(t *trace.Trace) {
	t, in, peers := a.corr.Correct(t)
	// Consumers reached only through links (a batch, or a consumer that
	// starts a trace of its own) count for the traces they link to.
	viaLinks := map[*trace.Span]bool{}
	type out struct {
		target string
		r      linkedRecv
	}
	var outs []out
	for _, s := range t.Spans {
		if !s.Receives() || len(s.Links) == 0 {
			continue
		}
		share := 1 / float64(s.Messages())
		for _, l := range s.Links {
			if _, ok := a.index.Lookup(l); !ok {
				a.dangling++
				continue
			}
			a.links++
			if l.TraceID != t.ID {
				outs = append(outs, out{l.TraceID, linkedRecv{svc: s.Service, op: s.Name, kind: s.Kind, share: share}})
				viaLinks[s] = true
			}
		}
	}
	info := traceInfo{op: t.CriticalOperation(), weight: t.Weight()}
	if r := t.Root(); r != nil {
		info.root = r.Name
	}
	for i, d := range a.forecast {
		if info.op == d.Key {
			a.byOp[i].addTrace(t, in, peers, viaLinks)
		}
		if info.root == d.Key {
			a.byRoot[i].addTrace(t, in, peers, viaLinks)
		}
	}
	for _, r := range a.waiting[t.ID] {
		a.attribute(info, r)
	}
	delete(a.waiting, t.ID)
	a.remember(t.ID, info)
	for _, o := range outs {
		if target, ok := a.added[o.target]; ok {
			a.attribute(target, o.r)
		} else {
			a.waiting[o.target] = append(a.waiting[o.target], o.r)
		}
	}
}

func (a *Accumulator) attribute(target traceInfo, r linkedRecv) {
	for i, d := range a.forecast {
		if target.op == d.Key {
			a.byOp[i].addLinked(target.weight, r)
		}
		if target.root == d.Key {
			a.byRoot[i].addLinked(target.weight, r)
		}
	}
}

func (a *Accumulator) remember(id string, info traceInfo) {
	if _, ok := a.added[id]; ok || a.recall <= 0 {
		a.added[id] = info
		return
	}
	if len(a.ring) < a.recall {
		a.ring = append(a.ring, id)
	} else {
		delete(a.added, a.ring[a.next])
		a.ring[a.next] = id
		a.next = (a.next + 1) % a.recall
	}
	a.added[id] = info
}

// Estimate returns the estimate from the traces added so far.
func (a *Accumulator) Estimate() *Estimate {
	est := &Estimate{Integrity: a.corr.Integrity(), Links: a.links, DanglingLinks: a.dangling}
	loads := map[opKey]*Load{}
	topics := map[string]*TopicLoad{}
	for i, d := range a.forecast {
		o := Operation{Key: d.Key, Forecast: d.PerSecond, MatchedBy: "critical_operation"}
		m := &a.byOp[i]
		if m.traces == 0 {
			o.MatchedBy = "root span name"
			m = &a.byRoot[i]
			if m.traces == 0 {
				o.MatchedBy = "none"
			}
		}
		o.Traces, o.Weighted = m.traces, m.weighted
		broken := m.broken
		for name, n := range m.peers {
			if a.corr.Known(name) {
				broken.UnpairedClients += n
			}
		}
		switch {
		case o.Traces == 0:
			o.Warning = "no matching traces: nothing to estimate from"
		case o.Traces < MinTraces:
			o.Warning = fmt.Sprintf("rests on only %d traces (< %d): low confidence", o.Traces, MinTraces)
		}
		if n := broken.UnpairedClients; n > 0 {
			o.Notes = append(o.Notes, fmt.Sprintf("%d client calls in the matching traces have no server span: the load they cause downstream is missing", n))
		}
		if broken.Orphans > 0 || broken.NoRoot > 0 {
			o.Notes = append(o.Notes, fmt.Sprintf("%d orphan spans (%d traces without a root) in the matching traces: spans between them and their callers are missing", broken.Orphans, broken.NoRoot))
		}
		for k, a := range m.ops {
			f := stats.Ratio(a.w, o.Weighted)
			fo := Fanout{Service: k.svc, Operation: k.op, Spans: a.n, PerTrace: stats.Round(f, 6), PerSecond: stats.Round(f*d.PerSecond, 6), ViaLinks: a.links}
			l := loads[k]
			if l == nil {
				l = &Load{Service: k.svc, Operation: k.op}
				loads[k] = l
			}
			if a.consumers && math.Abs(a.msgs-a.w) > 1e-9*a.w {
				m := stats.Ratio(a.msgs, o.Weighted)
				fo.MessagesPerTrace, fo.MessagesPerSecond = stats.Round(m, 6), stats.Round(m*d.PerSecond, 6)
				l.MessagesPerSecond += m * d.PerSecond
			}
			o.Fanout = append(o.Fanout, fo)
			l.PerSecond += f * d.PerSecond
			l.Spans += a.n
		}
		for topic, a := range m.topics {
			f := stats.Ratio(a.w, o.Weighted)
			o.Topics = append(o.Topics, TopicFanout{Topic: topic, Messages: a.n, PerTrace: stats.Round(f, 6), PerSecond: stats.Round(f*d.PerSecond, 6)})
			l := topics[topic]
			if l == nil {
				l = &TopicLoad{Topic: topic}
				topics[topic] = l
			}
			l.PerSecond += f * d.PerSecond
			l.Messages += a.n
		}
		o.Weighted = stats.Round(o.Weighted, 6)
		slices.SortFunc(o.Fanout, func(a, b Fanout) int {
			return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Operation, b.Operation))
		})
		slices.SortFunc(o.Topics, func(a, b TopicFanout) int { return strings.Compare(a.Topic, b.Topic) })
		est.Operations = append(est.Operations, o)
	}
	for _, l := range loads {
		l.PerSecond = stats.Round(l.PerSecond, 6)
		l.MessagesPerSecond = stats.Round(l.MessagesPerSecond, 6)
		est.Services = append(est.Services, *l)
	}
	slices.SortFunc(est.Services, func(a, b Load) int {
		return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Operation, b.Operation))
	})
	for _, l := range topics {
		l.PerSecond = stats.Round(l.PerSecond, 6)
		est.Topics = append(est.Topics, *l)
	}
	slices.SortFunc(est.Topics, func(a, b TopicLoad) int { return strings.Compare(a.Topic, b.Topic) })
	return est
}

// Warnings returns the per-operation warnings, prefixed with the key.
func (e *Estimate) Warnings() []string {
	var out []string
	for _, o := range e.Operations {
		if o.Warning != "" {
			out = append(out, o.Key+": "+o.Warning)
		}
		for _, n := range o.Notes {
			out = append(out, o.Key+": "+n)
		}
	}
	if e.DanglingLinks > 0 {
		out = append(out, fmt.Sprintf("%d span links point at spans not in the data: the consumers behind them count for no operation", e.DanglingLinks))
	}
	if s := e.Integrity.String(); s != "" {
		out = append(out, "data: "+s)
	}
	return out
}

// WriteText writes the fan-out per operation and the expected totals.
func (e *Estimate) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if s := e.Integrity.String(); s != "" {
		fmt.Fprintf(tw, "data: %s\n\n", s)
	}
	for _, o := range e.Operations {
		fmt.Fprintf(tw, "%s at %g/s (matched by %s; %d traces, weighted %g)\n", o.Key, o.Forecast, o.MatchedBy, o.Traces, o.Weighted)
		if o.Warning != "" {
			fmt.Fprintf(tw, "  warning: %s\n", o.Warning)
		}
		for _, n := range o.Notes {
			fmt.Fprintf(tw, "  note: %s\n", n)
		}
		fmt.Fprintln(tw, "  SERVICE\tOPERATION\tSPANS\tFAN-OUT\tCALLS/s")
		for _, f := range o.Fanout {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%.4f\t%.1f%s\n", f.Service, f.Operation, f.Spans, f.PerTrace, f.PerSecond, batchNote(f.MessagesPerSecond, f.ViaLinks))
		}
		for _, f := range o.Topics {
			fmt.Fprintf(tw, "  topic %s\t(produce)\t%d\t%.4f\t%.1f\n", f.Topic, f.Messages, f.PerTrace, f.PerSecond)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintln(tw, "expected load")
	fmt.Fprintln(tw, "  SERVICE\tOPERATION\tCALLS/s\tSPANS")
	for _, l := range e.Services {
		fmt.Fprintf(tw, "  %s\t%s\t%.1f\t%d%s\n", l.Service, l.Operation, l.PerSecond, l.Spans, batchNote(l.MessagesPerSecond, 0))
	}
	for _, l := range e.Topics {
		fmt.Fprintf(tw, "  topic %s\t(messages)\t%.1f\t%d\n", l.Topic, l.PerSecond, l.Messages)
	}
	return tw.Flush()
}

// batchNote is the text after a row of a batch consumer or of calls
// reached through links.
func batchNote(msgsPerSecond float64, viaLinks int) string {
	var parts []string
	if msgsPerSecond > 0 {
		parts = append(parts, fmt.Sprintf("calls are batches of %.1f messages/s", msgsPerSecond))
	}
	if viaLinks > 0 {
		parts = append(parts, fmt.Sprintf("%d via links", viaLinks))
	}
	if len(parts) == 0 {
		return ""
	}
	return "\t(" + strings.Join(parts, "; ") + ")"
}

// WriteJSON writes the estimate as indented JSON. Empty lists are [] rather
// than null, so consumers can iterate without a nil check.
func (e *Estimate) WriteJSON(w io.Writer) error {
	out := *e
	out.Operations = nonNil(slices.Clone(out.Operations)) // fill in a copy, not e
	for i := range out.Operations {
		out.Operations[i].Fanout = nonNil(out.Operations[i].Fanout)
		out.Operations[i].Topics = nonNil(out.Operations[i].Topics)
	}
	out.Services = nonNil(out.Services)
	out.Topics = nonNil(out.Topics)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
