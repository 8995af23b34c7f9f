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

// NodeKind distinguishes services from Kafka topics.
type NodeKind string

// Node kinds.
const (
	Service NodeKind = "service"
	Topic   NodeKind = "topic"
)

// Node is a service or a topic.
type Node struct {
	Name string
	Kind NodeKind
}

// Edge is a dependency with its traffic.
type Edge struct {
	From, To   Node
	Type       EdgeType
	Calls      int     // observed spans
	Errors     int     // observed failed calls
	ErrorRatio float64 // weighted
	P50, P99   time.Duration
}

// Graph is a dependency graph. Nodes and Edges are sorted.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

type key struct {
	from, to Node
	typ      EdgeType
}

type acc struct {
	calls, errors int
	wErr, wAll    float64
	lat           []stats.Sample
}

// Build derives the graph from traces (see the package documentation).
func Build(traces []*trace.Trace) *Graph {
	accs := map[key]*acc{}
	add := func(from, to Node, typ EdgeType, failed bool, d time.Duration, w float64) {
		if from == to {
			return
		}
		k := key{from, to, typ}
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
		}
		a.calls++
		a.wAll += w
		if failed {
			a.errors++
			a.wErr += w
		}
		a.lat = append(a.lat, stats.Sample{Value: d, Weight: w})
	}
	svc := func(s *trace.Span) Node { return Node{s.Service, Service} }
	for _, t := range traces {
		for _, s := range t.Spans {
			w := t.SpanWeight(s)
			topic := s.Str("messaging.destination.name")
			kafka := s.Str("messaging.system") == "kafka" && topic != ""
			switch {
			case kafka && s.Kind == trace.KindProducer:
				add(svc(s), Node{topic, Topic}, Kafka, s.Error, s.Duration(), w)
				continue
			case kafka && s.Kind == trace.KindConsumer:
				add(Node{topic, Topic}, svc(s), Kafka, s.Error, s.Duration(), w)
				continue
			case s.Kind == trace.KindClient:
				found := false
				for _, c := range t.Children(s) {
					if c.Service != s.Service {
						found = true
						add(svc(s), svc(c), typeOf(s, c), s.Error || c.Error, s.Duration(), w)
					}
				}
				if !found {
					if peer := peerOf(s); peer != "" {
						add(svc(s), Node{peer, Service}, typeOf(s, nil), s.Error, s.Duration(), w)
					}
				}
				continue
			}
			p := t.Parent(s)
			if p == nil || p.Service == s.Service || p.Kind == trace.KindClient {
				continue
			}
			if p.Kind == trace.KindProducer && p.Str("messaging.system") == "kafka" && p.Str("messaging.destination.name") != "" {
				continue // reached through the topic
			}
			add(svc(p), svc(s), typeOf(s, nil), s.Error, s.Duration(), w)
		}
	}
	g := &Graph{}
	nodes := map[Node]bool{}
	for _, t := range traces {
		for _, s := range t.Spans {
			nodes[svc(s)] = true
		}
	}
	for k, a := range accs {
		nodes[k.from], nodes[k.to] = true, true
		q := stats.Quantiles(a.lat, 0.5, 0.99)
		g.Edges = append(g.Edges, Edge{From: k.from, To: k.to, Type: k.typ, Calls: a.calls, Errors: a.errors,
			ErrorRatio: stats.Round(stats.Ratio(a.wErr, a.wAll), 6), P50: q[0], P99: q[1]})
	}
	for n := range nodes {
		g.Nodes = append(g.Nodes, n)
	}
	slices.SortFunc(g.Nodes, cmpNode)
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(cmpNode(a.From, b.From), cmpNode(a.To, b.To), strings.Compare(string(a.Type), string(b.Type)))
	})
	return g
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

func peerOf(s *trace.Span) string {
	for _, k := range []string{"peer.service", "peer.hostname", "server.address", "rpc.service"} {
		if v := s.Str(k); v != "" {
			return v
		}
	}
	return ""
}

func label(e Edge) string {
	return fmt.Sprintf("%s %d calls, %.1f%% err, p50 %s, p99 %s", e.Type, e.Calls, 100*e.ErrorRatio, fmtDur(e.P50), fmtDur(e.P99))
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
	for _, n := range g.Nodes {
		if n.Kind == Topic {
			fmt.Fprintf(&b, "    %s[(\"topic: %s\")]\n", mermaidID(n), mermaidText(n.Name))
		} else {
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
	if n.Kind == Topic {
		b.WriteString("topic_")
	} else {
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
	b.WriteString("digraph deps {\n    rankdir=LR;\n    node [shape=box, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, n := range g.Nodes {
		if n.Kind == Topic {
			fmt.Fprintf(&b, "    %s [label=%s, shape=cylinder];\n", dotQuote(string(n.Kind)+":"+n.Name), dotQuote("topic: "+n.Name))
		} else {
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
