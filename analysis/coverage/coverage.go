package coverage

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/semconv"
)

// MaxOperations bounds the critical operations a report tracks; traces of
// further operations are counted, not analysed.
const MaxOperations = 200

// maxKnown bounds the services remembered as instrumented.
const maxKnown = 100_000

// maxExampleKeys bounds the off-registry keys kept per service.
const maxExampleKeys = 5

// maxKeyLen clips an off-registry key quoted in a report.
const maxKeyLen = 64

// Hop statuses.
const (
	Traced         = "traced"
	Terminal       = "terminal"
	Uninstrumented = "uninstrumented"
	ServerMissing  = "server span missing"
	UnknownPeer    = "unknown peer"
	NoConsumer     = "no consumer"
)

// Report is the coverage of every critical operation seen (or expected).
type Report struct {
	Operations []*Operation `json:"operations"`
	// Unmarked is the number of traces that carry no critical operation.
	Unmarked int `json:"traces_without_critical_operation"`
	// OperationsOverflow counts traces of operations beyond MaxOperations.
	OperationsOverflow int `json:"operations_overflow"`
}

// Operation is the coverage of one critical user operation.
type Operation struct {
	Name     string     `json:"name"`
	Traces   int        `json:"traces"`
	Services []*Service `json:"services"`
	Hops     []*Hop     `json:"hops"`
	// TracedHops of TotalHops are traced end to end (terminal hops count
	// as traced). The user's call into the edge is not a hop.
	TracedHops int `json:"traced_hops"`
	TotalHops  int `json:"total_hops"`
	// Summary is the one-line progress figure.
	Summary string `json:"summary"`

	graph *deps.Graph
}

// Service is one service on an operation's path.
type Service struct {
	Name    string `json:"name"`
	Team    string `json:"team,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Instrumented is false for a dark node: a service known only from its
	// callers' client spans.
	Instrumented bool `json:"instrumented"`
	Spans        int  `json:"spans"`
	// NoFlowID and NoCriticalOperation count spans of the service that
	// lack the flow id or the critical-operation baggage.
	NoFlowID            int `json:"spans_without_flow_id"`
	NoCriticalOperation int `json:"spans_without_critical_operation"`
	// OffRegistry counts spans with an attribute key the tag registry does
	// not define; UnknownKeys are some of those keys.
	OffRegistry int      `json:"spans_off_registry"`
	UnknownKeys []string `json:"unknown_keys"`
}

// Hop is one edge of an operation's path.
type Hop struct {
	From     string        `json:"from"`
	FromKind deps.NodeKind `json:"from_kind"`
	To       string        `json:"to"`
	ToKind   deps.NodeKind `json:"to_kind"`
	Type     deps.EdgeType `json:"type"`
	Status   string        `json:"status"`
	Dark     bool          `json:"dark"`
	Calls    int           `json:"spans"`
	// Unpaired is how many calls lack the callee's server span.
	Unpaired int `json:"unpaired,omitempty"`
	// FlowIDLost is how many calls reached the callee with another flow id.
	FlowIDLost int    `json:"flow_id_lost,omitempty"`
	Team       string `json:"team,omitempty"` // of the callee
	Channel    string `json:"channel,omitempty"`
}

// Aggregator builds a Report trace by trace.
type Aggregator struct {
	owners   *owners.Map
	registry *semconv.Registry
	index    *trace.SpanIndex
	ops      map[string]*opAgg
	known    map[string]bool // services that sent spans, in any trace
	expected []string
	report   Report
}

type opAgg struct {
	traces   int
	builder  *deps.Builder
	services map[string]*svcAgg
	terminal map[string]bool // peer names of database/cache/broker calls
	flowLost map[[2]string]int
}

type svcAgg struct {
	spans, noFlow, noOp, offRegistry int
	keys                             []string
	team                             string // the team attribute its spans carry
}

// New returns an empty Aggregator. m gives teams (nil: span team
// attributes only); r is the tag registry (nil: semconv.Default()); index,
// when not nil, is the span index the caller feeds for following links
// between traces (see deps.NewBuilder).
func New(m *owners.Map, r *semconv.Registry, index *trace.SpanIndex) *Aggregator {
	if r == nil {
		r = semconv.Default()
	}
	return &Aggregator{owners: m, registry: r, index: index, ops: map[string]*opAgg{}, known: map[string]bool{}}
}

// Expect lists operations the report must have even when no trace of them
// is seen (they are reported with 0 traces: not traced at all).
func (a *Aggregator) Expect(ops ...string) {
	for _, op := range ops {
		if op = strings.TrimSpace(op); op != "" && !slices.Contains(a.expected, op) {
			a.expected = append(a.expected, op)
		}
	}
}

// Add adds one trace.
func (a *Aggregator) Add(t *trace.Trace) {
	for _, s := range t.Spans {
		if len(a.known) < maxKnown {
			a.known[s.Service] = true
		}
	}
	name := t.CriticalOperation()
	if name == "" {
		a.report.Unmarked++
		return
	}
	op := a.ops[name]
	if op == nil {
		if len(a.ops) >= MaxOperations {
			a.report.OperationsOverflow++
			return
		}
		op = &opAgg{builder: deps.NewBuilder(a.index), services: map[string]*svcAgg{}, terminal: map[string]bool{}, flowLost: map[[2]string]int{}}
		a.ops[name] = op
	}
	op.traces++
	op.builder.Add(t)
	for _, s := range t.Spans {
		sa := op.services[s.Service]
		if sa == nil {
			sa = &svcAgg{}
			op.services[s.Service] = sa
		}
		sa.spans++
		if sa.team == "" {
			sa.team = s.Team()
		}
		if s.Str(trace.AttrFlowID) == "" {
			sa.noFlow++
		}
		if s.CriticalOperation() == "" {
			sa.noOp++
		}
		off := false
		for _, k := range slices.Sorted(maps.Keys(s.Attributes)) {
			if _, ok := a.registry.Lookup(k); ok {
				continue
			}
			off = true
			if len(sa.keys) < maxExampleKeys {
				k = clip(k)
				if !slices.Contains(sa.keys, k) {
					sa.keys = append(sa.keys, k)
				}
			}
		}
		if off {
			sa.offRegistry++
		}
		if s.Kind != trace.KindClient && s.Kind != trace.KindProducer {
			continue
		}
		server := trace.ServerSide(t, s)
		if len(server) == 0 {
			if peer, _ := trace.PeerOf(s); peer != "" && isTerminal(s) {
				op.terminal[peer] = true
			}
			continue
		}
		if f := s.Str(trace.AttrFlowID); f != "" {
			from := s.Service
			if topic := s.Str("messaging.destination.name"); s.Kind == trace.KindProducer && topic != "" {
				from = topic // the hop is topic -> consumer
			}
			for _, c := range server {
				if c.Str(trace.AttrFlowID) != f {
					op.flowLost[[2]string{from, c.Service}]++
				}
			}
		}
	}
}

// isTerminal reports whether a client span calls a system that sends no
// spans by nature: a database, a cache or a message broker.
func isTerminal(s *trace.Span) bool {
	return s.Str("db.system.name") != "" || s.Str("db.system") != "" || s.Str("messaging.system") != ""
}

func clip(s string) string {
	if len(s) <= maxKeyLen {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:maxKeyLen], "?") + "..."
}

// Report returns the coverage of the traces added so far.
func (a *Aggregator) Report() *Report {
	rep := a.report
	names := slices.Sorted(maps.Keys(a.ops))
	for _, e := range a.expected {
		if a.ops[e] == nil {
			names = append(names, e)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		rep.Operations = append(rep.Operations, a.operation(name, a.ops[name]))
	}
	if rep.Operations == nil {
		rep.Operations = []*Operation{}
	}
	return &rep
}

func (a *Aggregator) operation(name string, op *opAgg) *Operation {
	out := &Operation{Name: name, Services: []*Service{}, Hops: []*Hop{}}
	if op == nil {
		out.graph = &deps.Graph{}
		out.Summary = name + ": no trace seen: not traced at all"
		return out
	}
	out.Traces = op.traces
	g := op.builder.Graph()
	out.graph = g
	// The hops, edge by edge; consumers of each topic.
	consumed := map[string]bool{}
	for _, e := range g.Edges {
		if e.From.Kind == deps.Topic {
			consumed[e.From.Name] = true
		}
	}
	dark := map[string]bool{} // dark service nodes
	for _, e := range g.Edges {
		if e.From.Kind == deps.User {
			continue
		}
		h := &Hop{From: e.From.Name, FromKind: e.From.Kind, To: e.To.Name, ToKind: e.To.Kind, Type: e.Type, Calls: e.Calls, Unpaired: e.Unpaired, Status: Traced}
		switch {
		case e.To.Kind == deps.Peer && op.terminal[e.To.Name]:
			h.Status = Terminal
		case e.To.Kind == deps.Peer && a.known[e.To.Name]:
			// A service that sends spans in other operations' traces: here
			// its server side is what is missing.
			h.ToKind, h.Status, h.Dark, h.Unpaired = deps.Service, ServerMissing, true, e.Calls
		case e.To.Kind == deps.Peer:
			h.Status, h.Dark = Uninstrumented, true
			dark[e.To.Name] = true
		case e.To.Kind == deps.Topic && !consumed[e.To.Name]:
			h.Status, h.Dark = NoConsumer, true
		case e.Unpaired > 0:
			h.Status, h.Dark = ServerMissing, true
		}
		h.FlowIDLost = op.flowLost[[2]string{e.From.Name, e.To.Name}]
		out.Hops = append(out.Hops, h)
	}
	for _, u := range g.Unresolved {
		out.Hops = append(out.Hops, &Hop{From: u.From, FromKind: deps.Service, To: u.Peer, ToKind: deps.Peer, Type: deps.Call, Calls: u.Calls, Unpaired: u.Calls, Status: UnknownPeer, Dark: true})
	}
	slices.SortFunc(out.Hops, func(x, y *Hop) int {
		return cmp.Or(cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To), cmp.Compare(x.Type, y.Type))
	})
	for _, h := range out.Hops {
		if h.ToKind == deps.Service || h.ToKind == deps.Peer {
			o := a.owners.Resolve(h.To, a.attrTeam(op, h.To))
			h.Team, h.Channel = o.Team, o.Channel
		}
		out.TotalHops++
		if !h.Dark {
			out.TracedHops++
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(op.services)) {
		sa := op.services[svc]
		o := a.owners.Resolve(svc, sa.team)
		out.Services = append(out.Services, &Service{Name: svc, Team: o.Team, Channel: o.Channel, Instrumented: true,
			Spans: sa.spans, NoFlowID: sa.noFlow, NoCriticalOperation: sa.noOp, OffRegistry: sa.offRegistry,
			UnknownKeys: append([]string{}, sa.keys...)})
	}
	for _, d := range slices.Sorted(maps.Keys(dark)) {
		o := a.owners.Resolve(d, "")
		out.Services = append(out.Services, &Service{Name: d, Team: o.Team, Channel: o.Channel, UnknownKeys: []string{}})
	}
	out.Summary = summary(out)
	return out
}

func (a *Aggregator) attrTeam(op *opAgg, service string) string {
	if sa := op.services[service]; sa != nil {
		return sa.team
	}
	return ""
}

// summary is the one-line progress figure, e.g. "checkout: 5 of 6 hops
// traced; payment-gateway (team payments) uninstrumented".
func summary(op *Operation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d hops traced", op.Name, op.TracedHops, op.TotalHops)
	var dark []string
	for _, h := range op.Hops {
		if !h.Dark {
			continue
		}
		who := h.To
		if h.Team != "" {
			who += " (team " + h.Team + ")"
		}
		switch h.Status {
		case Uninstrumented:
			dark = append(dark, who+" uninstrumented")
		case ServerMissing:
			dark = append(dark, fmt.Sprintf("%s: %d of %d calls from %s without its server span", who, h.Unpaired, h.Calls, h.From))
		case NoConsumer:
			dark = append(dark, "topic "+h.To+": no consumer reached")
		case UnknownPeer:
			to := h.To
			if to == "" {
				to = "an unnamed peer"
			}
			dark = append(dark, fmt.Sprintf("%s calls %s that sends no spans", h.From, to))
		}
	}
	slices.Sort(dark)
	dark = slices.Compact(dark)
	if len(dark) > 0 {
		b.WriteString("; ")
		b.WriteString(strings.Join(dark, "; "))
	}
	var noFlow, noOp []string
	for _, s := range op.Services {
		if s.Instrumented && s.NoFlowID > 0 {
			noFlow = append(noFlow, s.Name)
		}
		if s.Instrumented && s.NoCriticalOperation > 0 {
			noOp = append(noOp, s.Name)
		}
	}
	if len(noFlow) > 0 {
		fmt.Fprintf(&b, "; flow id missing in %s", strings.Join(noFlow, ", "))
	}
	if len(noOp) > 0 {
		fmt.Fprintf(&b, "; critical operation missing in %s", strings.Join(noOp, ", "))
	}
	return b.String()
}
