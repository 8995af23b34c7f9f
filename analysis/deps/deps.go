package deps

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/stats"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// EdgeType says how a caller reaches a callee.
type EdgeType string

// Edge types.
const (
	HTTP  EdgeType = "http"
	GRPC  EdgeType = "grpc"
	Kafka EdgeType = "kafka"
	Call  EdgeType = "call" // anything else
)

// NodeKind distinguishes services from Kafka topics, uninstrumented peers
// and the user.
type NodeKind string

// Node kinds.
const (
	Service NodeKind = "service"
	Topic   NodeKind = "topic"
	// Peer is a remote system that sends no spans (a database, a cache,
	// a third-party API), known only from its callers' client spans.
	Peer NodeKind = "peer"
	// User stands for the uninstrumented callers of root server spans.
	User NodeKind = "user"
)

// UserNode is the caller of every root server span.
var UserNode = Node{Name: "user", Kind: User}

// Node is a service, a topic, an uninstrumented peer or the user.
type Node struct {
	Name string   `json:"name"`
	Kind NodeKind `json:"kind"`
}

// Edge is a dependency with its traffic.
type Edge struct {
	From Node     `json:"from"`
	To   Node     `json:"to"`
	Type EdgeType `json:"type"`
	// Calls and Errors are observed spans (for a batch consumer: batches);
	// Weighted is the calls they stand for, each span weighted by
	// 1/sampling.probability: the count the diagram shows.
	Calls      int           `json:"spans"`
	Errors     int           `json:"failed_spans"`
	Weighted   float64       `json:"weighted_calls"`
	ErrorRatio float64       `json:"error_ratio"` // weighted
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	// Messages is the number of messages a topic -> service edge
	// delivered (a batch counts its messages); 0 on other edges.
	// WeightedMessages is the same weighted by 1/sampling.probability.
	Messages         int     `json:"messages,omitempty"`
	WeightedMessages float64 `json:"weighted_messages,omitempty"`
	// Unpaired is how many of Calls are client spans without the callee's
	// server span (it names a service of the data that did not record it).
	Unpaired int `json:"unpaired,omitempty"`
}

// Unresolved is calls that reach no node: client spans without a server
// side that name only an address or an RPC interface no service serves.
type Unresolved struct {
	From  string `json:"from"` // calling service
	Peer  string `json:"peer"` // what the span names ("" when nothing)
	Calls int    `json:"spans"`
}

// Graph is a dependency graph. Nodes and Edges are sorted.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
	// Unresolved lists unpaired calls drawn nowhere, by caller and peer.
	Unresolved []Unresolved `json:"unresolved"`
	// Integrity is what was broken or corrected in the data.
	Integrity trace.Integrity `json:"integrity"`
	// Links counts consumer span links followed to a span of the data,
	// and DanglingLinks those whose target is not in the data. (A public
	// endpoint's link to its caller is followed when the caller's client
	// span is in the data, and not counted: most callers of a public
	// endpoint are outside it.)
	Links         int `json:"links"`
	DanglingLinks int `json:"dangling_links"`
}

type key struct {
	from, to Node
	typ      EdgeType
}

type acc struct {
	calls, errors, messages, unpaired int
	wErr, wAll, wMessages             float64
	lat                               stats.Sketch
}

// msg counts n messages, each standing for w.
func (a *acc) msg(n int, w float64) {
	a.messages += n
	a.wMessages += float64(n) * w
}

func (a *acc) call(failed bool, d time.Duration, w float64) {
	a.calls++
	a.wAll += w
	if failed {
		a.errors++
		a.wErr += w
	}
	a.lat.Add(d, w)
}

func (a *acc) merge(o *acc) {
	a.calls += o.calls
	a.errors += o.errors
	a.messages += o.messages
	a.unpaired += o.unpaired
	a.wErr += o.wErr
	a.wAll += o.wAll
	a.wMessages += o.wMessages
	a.lat.Merge(&o.lat)
}

// Build derives the graph from traces (see the package documentation),
// after correcting each trace's clock skew ([trace.CorrectAll]).
func Build(traces []*trace.Trace) *Graph {
	b := NewBuilder(trace.IndexTraces(traces))
	b.unmatchedMax = 0 // in memory: hold every client span without a server side
	for _, t := range traces {
		b.Add(t)
	}
	return b.Graph()
}

// Builder derives a [Graph] trace by trace, in memory that does not grow
// with the number of traces: counts and a mergeable latency sketch per
// edge ([stats.Sketch]: exact up to 1024 calls, then within 1% relative
// error). What depends on other traces waits:
//
//   - a client span without a server side is held, compactly, for the
//     latest [DefaultUnmatched] of them, in case a public endpoint's trace
//     links to it (then that server span is its server side); after that
//     it is kept by (caller, peer name) until [Builder.Graph], where the
//     services of all the data decide between a peer node, an unpaired
//     call and an unresolved one;
//   - links are followed through a [trace.SpanIndex].
type Builder struct {
	corr         *trace.StreamCorrector
	index        *trace.SpanIndex
	accs         map[key]*acc
	pending      map[pendingKey]*acc
	serves       map[string]string // rpc.service -> the service whose server spans carry it
	links        int
	dangling     int
	unmatched    map[trace.Link]*clientCall   // client spans without a server side, not yet pending
	order        []trace.Link                 // unmatched, oldest first
	unmatchedMax int                          // 0: unbounded
	wanted       map[trace.Link][]*trace.Span // public endpoints' server spans waiting for the client span they link to
	wantedOrder  []trace.Link                 // wanted, oldest first
	observe      func(Observed)               // see Observe
}

// Observed is one call a [Builder] counts on an edge, as it counts it: for
// live consumers (analysis/live) that keep their own series of the edges
// the Builder finds, by the same rules as the graph.
type Observed struct {
	From, To Node
	Type     EdgeType
	Failed   bool
	// Client is the caller's span (client or producer), Server the
	// callee's (server or consumer); either is nil when that side sent no
	// span (a peer, the user, a parent-child edge without a client span).
	Client, Server *trace.Span
	Weight         float64
	// Unpaired is a client span without the callee's server span whose
	// peer names a known service (Graph's Unpaired).
	Unpaired bool
}

// Observe makes the Builder pass each call it counts to fn, and decide a
// client span without a server side at once (with the services known so
// far) instead of holding it for a public endpoint's link: what a live
// consumer needs, since it never reaches the end of its input. Calls to
// peers decided so are also in Graph.
func (b *Builder) Observe(fn func(Observed)) {
	b.observe = fn
}

// Held is the number of entries the Builder holds (edges, pending peers,
// held and wanted client spans, rpc services): a live consumer renews a
// Builder whose state has grown past its bound.
func (b *Builder) Held() int {
	return len(b.accs) + len(b.pending) + len(b.unmatched) + len(b.wanted) + len(b.serves)
}

// DefaultUnmatched is how many client spans without a server side a
// streaming [Builder] holds while a public endpoint may still link to
// them (about 100 bytes each).
const DefaultUnmatched = 1 << 16

// clientCall is what a held client span without a server side is
// reduced to (about 100 bytes with its map entry): the caller, the peer
// its attributes name, its protocol and the call.
type clientCall struct {
	service string
	peer    string
	system  bool     // peer names a remote system (trace.PeerOf)
	typ     EdgeType // typeOf the client span alone
	failed  bool
	d       time.Duration
	w       float64
	span    *trace.Span // only with an observer
}

// heldCall reduces a client span without a server side; keep says
// whether to keep the span itself too, for an observer (which sees each
// call as it is counted, so nothing is held then).
func heldCall(s *trace.Span, w float64, keep bool) *clientCall {
	name, system := trace.PeerOf(s)
	c := &clientCall{service: s.Service, peer: name, system: system, typ: typeOf(s), failed: s.Error, d: s.Duration(), w: w}
	if keep {
		c.span = s
	}
	return c
}

func (c *clientCall) key() pendingKey {
	return pendingKey{from: Node{c.service, Service}, name: c.peer, system: c.system, typ: c.typ}
}

type pendingKey struct {
	from   Node
	name   string
	system bool
	typ    EdgeType
}

// NewBuilder returns an empty Builder that follows links through index:
// [trace.IndexTraces] for traces in memory, a bounded [trace.SpanIndex]
// fed with every span as it is read for a stream; nil follows none (every
// link counts as dangling).
func NewBuilder(index *trace.SpanIndex) *Builder {
	return &Builder{corr: trace.NewStreamCorrector(trace.DefaultMaxSkew), index: index,
		accs: map[key]*acc{}, pending: map[pendingKey]*acc{}, serves: map[string]string{},
		unmatched: map[trace.Link]*clientCall{}, unmatchedMax: DefaultUnmatched, wanted: map[trace.Link][]*trace.Span{}}
}

func (b *Builder) add(from, to Node, typ EdgeType, failed bool, d time.Duration, w float64, client, server *trace.Span) *acc {
	if b.observe != nil {
		b.observe(Observed{From: from, To: to, Type: typ, Failed: failed, Client: client, Server: server, Weight: w})
	}
	k := key{from, to, typ}
	a := b.accs[k]
	if a == nil {
		a = &acc{}
		b.accs[k] = a
	}
	a.call(failed, d, w)
	return a
}

// Add corrects and adds one trace.
func (b *Builder) Add(t *trace.Trace) {
	t, _, _ = b.corr.Correct(t)
	svc := func(s *trace.Span) Node { return Node{s.Service, Service} }
	calledByLink := map[*trace.Span]bool{}
	for _, s := range t.Spans {
		if s.Kind == trace.KindServer {
			if rs := s.Str("rpc.service"); rs != "" {
				if _, ok := b.serves[rs]; !ok {
					b.serves[rs] = s.Service
				}
			}
		}
		// A public endpoint starts a new trace linked to its caller's
		// client span: this server span is that client's server side.
		if !publicEntry(t, s) {
			continue
		}
		for _, l := range s.Links {
			target, ok := b.index.Lookup(l)
			if !ok || target.Span.Kind != trace.KindClient {
				continue
			}
			calledByLink[s] = true
			if c := b.unmatched[l]; c != nil {
				typ := c.typ // typeOf(client, server)
				if typ == Call {
					typ = typeOf(s)
				}
				b.add(Node{c.service, Service}, svc(s), typ, c.failed || s.Error, c.d, c.w, c.span, s)
				delete(b.unmatched, l) // its order entry is skipped when it comes up
			} else {
				b.want(l, s)
			}
		}
	}
	for _, s := range t.Spans {
		w := t.SpanWeight(s)
		topic := s.Str("messaging.destination.name")
		kafka := s.Str("messaging.system") == "kafka" && topic != ""
		switch {
		case kafka && s.Kind == trace.KindProducer:
			b.add(svc(s), Node{topic, Topic}, Kafka, s.Error, s.Duration(), w, s, nil).msg(1, w)
			continue
		case kafka && s.Kind == trace.KindConsumer:
			b.add(Node{topic, Topic}, svc(s), Kafka, s.Error, s.Duration(), w, nil, s).msg(s.Messages(), w)
			for _, l := range s.Links {
				if _, ok := b.index.Lookup(l); ok {
					b.links++
				} else {
					b.dangling++
				}
			}
			continue
		case s.Kind == trace.KindClient:
			l := trace.Link{TraceID: t.ID, SpanID: s.SpanID}
			side := append(trace.ServerSide(t, s), b.wanted[l]...)
			delete(b.wanted, l)
			for _, c := range side {
				b.add(svc(s), svc(c), typeOf(s, c), s.Error || c.Error, s.Duration(), w, s, c)
			}
			if len(side) == 0 {
				if b.observe != nil {
					b.settle(heldCall(s, w, true))
				} else {
					b.hold(l, heldCall(s, w, false))
				}
			}
			continue
		}
		p := t.Parent(s)
		if p == nil {
			if trace.IsRootID(s.ParentID) && s.Kind == trace.KindServer && !calledByLink[s] {
				b.add(UserNode, svc(s), typeOf(s), s.Error, s.Duration(), w, nil, s)
			}
			if s.Kind == trace.KindConsumer {
				// Reached only through links (a new trace per message or
				// batch): one call from each linked service, with the
				// messages that came from it.
				count := map[string]int{} // linked service -> messages
				var first []*trace.Span   // a linked span of each service, in link order
				for _, l := range s.Links {
					target, ok := b.index.Lookup(l)
					if !ok {
						b.dangling++
						continue
					}
					b.links++
					p := target.Span
					if p.Service == s.Service {
						continue
					}
					if count[p.Service] == 0 {
						first = append(first, p)
					}
					count[p.Service]++
				}
				for _, p := range first {
					b.add(svc(p), svc(s), typeOf(p, s), s.Error, s.Duration(), w, nil, s).msg(count[p.Service], w)
				}
			}
			continue
		}
		if p.Service == s.Service || p.Kind == trace.KindClient {
			continue
		}
		if p.Kind == trace.KindProducer && p.Str("messaging.system") == "kafka" && p.Str("messaging.destination.name") != "" {
			continue // reached through the topic
		}
		b.add(svc(p), svc(s), typeOf(s, nil), s.Error, s.Duration(), w, nil, s)
	}
}

// hold keeps a client span without a server side while a public
// endpoint's trace may still link to it; the oldest one past the bound
// goes to pending.
func (b *Builder) hold(l trace.Link, c *clientCall) {
	if _, dup := b.unmatched[l]; dup {
		b.settle(c)
		return
	}
	b.unmatched[l] = c
	b.order = append(b.order, l)
	for b.unmatchedMax > 0 && len(b.unmatched) > b.unmatchedMax && len(b.order) > 0 {
		old := b.order[0]
		b.order = b.order[1:]
		if c := b.unmatched[old]; c != nil {
			delete(b.unmatched, old)
			b.settle(c)
		}
	}
	if len(b.order) > 2*len(b.unmatched)+1024 {
		b.order = slices.DeleteFunc(b.order, func(l trace.Link) bool { return b.unmatched[l] == nil })
	}
}

// want keeps a public endpoint's server span until the client span it
// links to comes; streaming, for the latest [DefaultUnmatched] of them
// (a client span coming later than that is an unpaired call).
func (b *Builder) want(l trace.Link, s *trace.Span) {
	if _, ok := b.wanted[l]; !ok {
		b.wantedOrder = append(b.wantedOrder, l)
	}
	b.wanted[l] = append(b.wanted[l], s)
	for b.unmatchedMax > 0 && len(b.wanted) > b.unmatchedMax && len(b.wantedOrder) > 0 {
		delete(b.wanted, b.wantedOrder[0])
		b.wantedOrder = b.wantedOrder[1:]
	}
	if len(b.wantedOrder) > 2*len(b.wanted)+1024 {
		b.wantedOrder = slices.DeleteFunc(b.wantedOrder, func(l trace.Link) bool { return b.wanted[l] == nil })
	}
}

// settle moves a client span without a server side to the calls decided
// in Graph.
func (b *Builder) settle(c *clientCall) {
	k := c.key()
	a := b.pending[k]
	if a == nil {
		a = &acc{}
		b.pending[k] = a
	}
	a.call(c.failed, c.d, c.w)
	if b.observe != nil {
		if to, unpaired, ok := b.resolve(k, b.corr.Known); ok {
			b.observe(Observed{From: k.from, To: to, Type: k.typ, Failed: c.failed, Client: c.span, Weight: c.w, Unpaired: unpaired})
		} else {
			b.observe(Observed{From: k.from, Type: k.typ, Failed: c.failed, Client: c.span, Weight: c.w})
		}
	}
}

// resolve decides where calls without a server side go: a peer node for
// a system that sends no spans, the named service (unpaired: it did not
// record them), the service serving the named RPC interface (unpaired), or
// nowhere (ok false: unresolved).
func (b *Builder) resolve(k pendingKey, known trace.Known) (to Node, unpaired, ok bool) {
	switch name := k.name; {
	case k.system && !known(name):
		return Node{name, Peer}, false, true
	case known(name):
		return Node{name, Service}, true, true
	case b.serves[name] != "":
		return Node{b.serves[name], Service}, true, true
	}
	return Node{}, false, false
}

// Graph returns the graph of the traces added so far.
func (b *Builder) Graph() *Graph {
	g := &Graph{Integrity: b.corr.Integrity(), Links: b.links, DanglingLinks: b.dangling}
	known := b.corr.Known
	accs := make(map[key]*acc, len(b.accs))
	for k, a := range b.accs {
		c := &acc{}
		c.merge(a)
		accs[k] = c
	}
	into := func(k key, a *acc, unpaired bool) {
		c := accs[k]
		if c == nil {
			c = &acc{}
			accs[k] = c
		}
		c.merge(a)
		if unpaired {
			c.unpaired += a.calls
		}
	}
	pending := make(map[pendingKey]*acc, len(b.pending))
	for k, a := range b.pending {
		c := &acc{}
		c.merge(a)
		pending[k] = c
	}
	for _, l := range b.order {
		if c := b.unmatched[l]; c != nil {
			k := c.key()
			if pending[k] == nil {
				pending[k] = &acc{}
			}
			pending[k].call(c.failed, c.d, c.w)
		}
	}
	unresolved := map[Unresolved]int{}
	for k, a := range pending {
		if to, unpaired, ok := b.resolve(k, known); ok {
			into(key{k.from, to, k.typ}, a, unpaired)
		} else {
			unresolved[Unresolved{From: k.from.Name, Peer: k.name}] += a.calls
		}
	}
	nodes := map[Node]bool{}
	for n := range b.corr.Services() {
		nodes[Node{n, Service}] = true
	}
	for k, a := range accs {
		nodes[k.from], nodes[k.to] = true, true
		q := a.lat.Quantiles(0.5, 0.99)
		e := Edge{From: k.from, To: k.to, Type: k.typ, Calls: a.calls, Errors: a.errors, Unpaired: a.unpaired,
			Weighted: stats.Round(a.wAll, 6), ErrorRatio: stats.Round(stats.Ratio(a.wErr, a.wAll), 6), P50: q[0], P99: q[1]}
		if k.to.Kind == Service && a.messages > 0 {
			e.Messages, e.WeightedMessages = a.messages, stats.Round(a.wMessages, 6)
		}
		g.Edges = append(g.Edges, e)
	}
	for n := range nodes {
		g.Nodes = append(g.Nodes, n)
	}
	for u, n := range unresolved {
		u.Calls = n
		g.Unresolved = append(g.Unresolved, u)
	}
	slices.SortFunc(g.Nodes, cmpNode)
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(cmpNode(a.From, b.From), cmpNode(a.To, b.To), strings.Compare(string(a.Type), string(b.Type)))
	})
	slices.SortFunc(g.Unresolved, func(a, b Unresolved) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.Peer, b.Peer))
	})
	return g
}

func publicEntry(t *trace.Trace, s *trace.Span) bool {
	return s.Kind == trace.KindServer && len(s.Links) > 0 && trace.IsRootID(s.ParentID) && t.Parent(s) == nil
}

// Notes says in lines what the diagram cannot show: broken or corrected
// traces, unresolved calls, links whose target is missing. None for clean
// data.
func (g *Graph) Notes() []string {
	var out []string
	if s := g.Integrity.String(); s != "" {
		out = append(out, s)
	}
	for _, u := range g.Unresolved {
		peer := u.Peer
		if peer == "" {
			peer = "(nothing)"
		}
		out = append(out, fmt.Sprintf("%d calls from %s to %s reach no node: no server span, and the peer names no known service or system", u.Calls, u.From, peer))
	}
	if g.DanglingLinks > 0 {
		out = append(out, fmt.Sprintf("%d span links point at spans not in the data", g.DanglingLinks))
	}
	return out
}

func cmpNode(a, b Node) int {
	return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Name, b.Name))
}

func typeOf(spans ...*trace.Span) EdgeType {
	for _, s := range spans {
		if s == nil {
			continue
		}
		switch {
		case s.Str("rpc.system") == "grpc":
			return GRPC
		case s.Str("messaging.system") == "kafka":
			return Kafka
		case s.Str("http.method") != "" || s.Str("http.request.method") != "" || s.Str("http.route") != "" || s.Str("url.full") != "":
			return HTTP
		}
	}
	return Call
}

func label(e Edge) string {
	calls := fmtCount(e.Weighted) + " calls"
	if e.Messages > 0 && e.Messages != e.Calls {
		calls = fmt.Sprintf("%s messages in %s batches", fmtCount(e.WeightedMessages), fmtCount(e.Weighted))
	}
	if e.Unpaired > 0 {
		calls += fmt.Sprintf(" (%d unpaired)", e.Unpaired)
	}
	return fmt.Sprintf("%s %s, %.1f%% err, p50 %s, p99 %s", e.Type, calls, 100*e.ErrorRatio, fmtDur(e.P50), fmtDur(e.P99))
}

// fmtCount formats a weighted count: whole numbers as such, others with one
// decimal (a span sampled at 0.3 stands for 3.33 calls).
func fmtCount(x float64) string {
	return strconv.FormatFloat(stats.Round(x, 1), 'f', -1, 64)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%gms", stats.Round(float64(d)/1e6, 1))
	}
	return d.String()
}

// Mermaid writes the graph as a Mermaid flowchart (`flowchart LR`): services
// are boxes, topics cylinders; http edges are solid, grpc thick, kafka
// dotted.
func (g *Graph) Mermaid(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("flowchart LR\n")
	for _, note := range g.Notes() {
		fmt.Fprintf(&b, "    %%%% %s\n", strings.ReplaceAll(note, "\n", " "))
	}
	for _, n := range g.Nodes {
		switch n.Kind {
		case Topic:
			fmt.Fprintf(&b, "    %s[(\"topic: %s\")]\n", mermaidID(n), mermaidText(n.Name))
		case Peer:
			fmt.Fprintf(&b, "    %s[/\"%s\"/]\n", mermaidID(n), mermaidText(n.Name))
		case User:
			fmt.Fprintf(&b, "    %s((\"%s\"))\n", mermaidID(n), mermaidText(n.Name))
		default:
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", mermaidID(n), mermaidText(n.Name))
		}
	}
	for _, e := range g.Edges {
		arrow := "-->"
		switch e.Type {
		case GRPC:
			arrow = "==>"
		case Kafka:
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "    %s %s|\"%s\"| %s\n", mermaidID(e.From), arrow, mermaidText(label(e)), mermaidID(e.To))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func mermaidID(n Node) string {
	var b strings.Builder
	switch n.Kind {
	case Topic:
		b.WriteString("topic_")
	case Peer:
		b.WriteString("peer_")
	case User:
		b.WriteString("user_")
	default:
		b.WriteString("svc_")
	}
	for _, c := range n.Name {
		if c < 128 && (c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b.WriteRune(c)
		} else {
			fmt.Fprintf(&b, "_%x_", c)
		}
	}
	return b.String()
}

func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;").Replace(s)
}

// DOT writes the graph in Graphviz DOT.
func (g *Graph) DOT(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("digraph deps {\n")
	for _, note := range g.Notes() {
		fmt.Fprintf(&b, "    // %s\n", strings.ReplaceAll(note, "\n", " "))
	}
	b.WriteString("    rankdir=LR;\n    node [shape=box, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, n := range g.Nodes {
		switch n.Kind {
		case Topic:
			fmt.Fprintf(&b, "    %s [label=%s, shape=cylinder];\n", dotQuote(string(n.Kind)+":"+n.Name), dotQuote("topic: "+n.Name))
		case Peer:
			fmt.Fprintf(&b, "    %s [label=%s, style=dashed];\n", dotQuote(string(n.Kind)+":"+n.Name), dotQuote(n.Name))
		case User:
			fmt.Fprintf(&b, "    %s [label=%s, shape=ellipse];\n", dotQuote(string(n.Kind)+":"+n.Name), dotQuote(n.Name))
		default:
			fmt.Fprintf(&b, "    %s [label=%s];\n", dotQuote(string(n.Kind)+":"+n.Name), dotQuote(n.Name))
		}
	}
	for _, e := range g.Edges {
		style := "solid"
		switch e.Type {
		case GRPC:
			style = "bold"
		case Kafka:
			style = "dashed"
		}
		color := "black"
		if e.ErrorRatio >= 0.05 {
			color = "red"
		}
		fmt.Fprintf(&b, "    %s -> %s [label=%s, style=%s, color=%s];\n",
			dotQuote(string(e.From.Kind)+":"+e.From.Name), dotQuote(string(e.To.Kind)+":"+e.To.Name), dotQuote(label(e)), style, color)
	}
	b.WriteString("}\n")
	_, err := w.Write(b.Bytes())
	return err
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// ErrNoDot is returned by [Graph.SVG] when Graphviz's dot is not in PATH.
var ErrNoDot = errors.New("graphviz 'dot' not found in PATH (install graphviz, or use the mermaid or dot format)")

// SVG renders the graph with Graphviz's dot, which must be in PATH, killing
// it after timeout (30s when <= 0).
func (g *Graph) SVG(ctx context.Context, w io.Writer, timeout time.Duration) error {
	path, err := exec.LookPath("dot")
	if err != nil {
		return ErrNoDot
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var in, out, errb bytes.Buffer
	if err := g.DOT(&in); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &in, &out, &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("dot: timed out after %s", timeout)
		}
		return fmt.Errorf("dot: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	_, err = w.Write(out.Bytes())
	return err
}
