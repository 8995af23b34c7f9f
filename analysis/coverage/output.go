package coverage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/flowtrace/flowtrace/analysis/deps"
)

// WriteText writes, per operation, the progress line, the hops and the
// services on the path.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	for i, op := range r.Operations {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s\n", op.Summary)
		if op.Traces == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %d traces\n", op.Traces)
		tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  hop\ttype\tspans\tstatus\tteam of callee\t")
		for _, h := range op.Hops {
			status := h.Status
			if h.Unpaired > 0 && h.Status == ServerMissing {
				status = fmt.Sprintf("%s (%d of %d)", h.Status, h.Unpaired, h.Calls)
			}
			if h.FlowIDLost > 0 {
				status += fmt.Sprintf(", flow id lost on %d", h.FlowIDLost)
			}
			to := h.To
			if h.ToKind == deps.Topic {
				to = "topic " + to
			}
			if to == "" {
				to = "(unnamed peer)"
			}
			fmt.Fprintf(tw, "  %s -> %s\t%s\t%d\t%s\t%s\t\n", h.From, to, h.Type, h.Calls, status, dash(h.Team))
		}
		_ = tw.Flush()
		tw = tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  service\tteam\tspans\tno flow id\tno critical op\toff registry\t")
		for _, s := range op.Services {
			if !s.Instrumented {
				fmt.Fprintf(tw, "  %s\t%s\tuninstrumented\t\t\t\t\n", s.Name, dash(s.Team))
				continue
			}
			off := fmt.Sprint(s.OffRegistry)
			if len(s.UnknownKeys) > 0 {
				off += " (" + strings.Join(s.UnknownKeys, ", ") + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%s\t\n", s.Name, dash(s.Team), s.Spans, s.NoFlowID, s.NoCriticalOperation, off)
		}
		_ = tw.Flush()
	}
	if r.Unmarked > 0 {
		fmt.Fprintf(&b, "\n%d traces carry no critical operation (mark the edge: WithCriticalOperation)\n", r.Unmarked)
	}
	if r.OperationsOverflow > 0 {
		fmt.Fprintf(&b, "%d traces of operations beyond the first %d were not analysed\n", r.OperationsOverflow, MaxOperations)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Mermaid writes each operation's dependency diagram with its dark hops
// marked: dashed red arrows labelled with why, and uninstrumented services
// drawn as dark nodes.
func (r *Report) Mermaid(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("flowchart LR\n")
	b.WriteString("    classDef dark fill:#333,color:#fff,stroke:#c00,stroke-width:2px\n")
	edge := 0
	for i, op := range r.Operations {
		fmt.Fprintf(&b, "    subgraph op%d[\"%s\"]\n", i, mermaidText(op.Summary))
		prefix := fmt.Sprintf("o%d_", i)
		ids := map[deps.Node]string{}
		id := func(n deps.Node) string {
			if v, ok := ids[n]; ok {
				return v
			}
			v := fmt.Sprintf("%sn%d", prefix, len(ids))
			ids[n] = v
			return v
		}
		darkNode := map[string]bool{}
		for _, h := range op.Hops {
			if h.Status == Uninstrumented || h.Status == UnknownPeer {
				darkNode[h.To] = true
			}
		}
		nodes := op.graph.Nodes
		for _, h := range op.Hops {
			if h.Status == UnknownPeer {
				nodes = append(nodes, deps.Node{Name: h.To, Kind: deps.Peer})
			}
		}
		for _, n := range nodes {
			name := n.Name
			if name == "" {
				name = "(unnamed peer)"
			}
			switch {
			case n.Kind == deps.Topic:
				fmt.Fprintf(&b, "        %s[(\"topic: %s\")]\n", id(n), mermaidText(name))
			case n.Kind == deps.User:
				fmt.Fprintf(&b, "        %s((\"%s\"))\n", id(n), mermaidText(name))
			case darkNode[n.Name]:
				fmt.Fprintf(&b, "        %s[\"%s (dark)\"]:::dark\n", id(n), mermaidText(name))
			case n.Kind == deps.Peer:
				fmt.Fprintf(&b, "        %s[/\"%s\"/]\n", id(n), mermaidText(name))
			default:
				fmt.Fprintf(&b, "        %s[\"%s\"]\n", id(n), mermaidText(name))
			}
		}
		var dark []int
		for _, e := range op.graph.Edges {
			if e.From.Kind != deps.User {
				continue
			}
			fmt.Fprintf(&b, "        %s --> %s\n", id(e.From), id(e.To))
			edge++
		}
		for _, h := range op.Hops {
			from := deps.Node{Name: h.From, Kind: h.FromKind}
			to := deps.Node{Name: h.To, Kind: h.ToKind}
			if h.Dark {
				fmt.Fprintf(&b, "        %s -.->|\"%s\"| %s\n", id(from), mermaidText(h.Status), id(to))
				dark = append(dark, edge)
			} else {
				fmt.Fprintf(&b, "        %s -->|\"%s\"| %s\n", id(from), mermaidText(string(h.Type)), id(to))
			}
			edge++
		}
		b.WriteString("    end\n")
		for _, d := range dark {
			fmt.Fprintf(&b, "    linkStyle %d stroke:#c00,stroke-width:2px\n", d)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;", "\n", " ").Replace(s)
}
