package serve

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/live"
)

// Layout of the diagram, in SVG user units.
const (
	nodeW, nodeH   = 170, 38
	colGap, rowGap = 110, 34
	margin         = 30
	maxNodes       = 200 // drawn; the rest are counted under the diagram
	maxLabel       = 24  // characters of a node name drawn
)

type edge struct {
	from, to       string
	conn           string
	calls, failed  float64
	fromIdx, toIdx int
}

type graph struct {
	nodes  []deps.Node
	edges  []*edge
	hidden int
}

// graphOf reads the diagram's nodes and edges from a snapshot: the edge
// series, and every service that sent a span.
func graphOf(snap *live.Snapshot) graph {
	var g graph
	kind := map[string]deps.NodeKind{}
	for _, n := range snap.Nodes {
		if _, ok := kind[n.Name]; !ok {
			kind[n.Name] = n.Kind
			g.nodes = append(g.nodes, n)
		}
	}
	if f := snap.Family(live.MetricCalls); f != nil {
		for _, s := range f.Series {
			if s.Overflow {
				continue
			}
			if _, ok := kind[s.Values[0]]; !ok {
				kind[s.Values[0]] = deps.Service
				g.nodes = append(g.nodes, deps.Node{Name: s.Values[0], Kind: deps.Service})
			}
		}
	}
	sort.SliceStable(g.nodes, func(i, j int) bool { return g.nodes[i].Name < g.nodes[j].Name })
	if len(g.nodes) > maxNodes {
		g.hidden = len(g.nodes) - maxNodes
		g.nodes = g.nodes[:maxNodes]
	}
	idx := map[string]int{}
	for i, n := range g.nodes {
		idx[n.Name] = i
	}
	byKey := map[[3]string]*edge{}
	get := func(v []string) *edge {
		k := [3]string{v[0], v[1], v[2]}
		e := byKey[k]
		if e == nil {
			fi, ok1 := idx[v[0]]
			ti, ok2 := idx[v[1]]
			if !ok1 || !ok2 {
				return nil
			}
			e = &edge{from: v[0], to: v[1], conn: v[2], fromIdx: fi, toIdx: ti}
			byKey[k] = e
			g.edges = append(g.edges, e)
		}
		return e
	}
	if f := snap.Family(live.MetricRequests); f != nil {
		for _, s := range f.Series {
			if !s.Overflow {
				if e := get(s.Values); e != nil {
					e.calls += s.Value
				}
			}
		}
	}
	if f := snap.Family(live.MetricRequestsFailed); f != nil {
		for _, s := range f.Series {
			if !s.Overflow {
				if e := get(s.Values); e != nil {
					e.failed += s.Value
				}
			}
		}
	}
	return g
}

// depths places each node one column right of its deepest caller; cycles
// stop at the number of nodes.
func depths(g graph) []int {
	d := make([]int, len(g.nodes))
	for range g.nodes {
		changed := false
		for _, e := range g.edges {
			if e.fromIdx != e.toIdx && d[e.toIdx] < d[e.fromIdx]+1 && d[e.fromIdx]+1 < len(g.nodes) {
				d[e.toIdx] = d[e.fromIdx] + 1
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return d
}

// Diagram draws the service graph of a snapshot as a standalone SVG:
// services as boxes, the user as a pill, peers (databases, uninstrumented
// systems) dashed, topics rounded; each edge labelled with its weighted
// calls and error ratio, red from 5% errors.
func Diagram(snap *live.Snapshot) string {
	g := graphOf(snap)
	d := depths(g)
	cols := map[int][]int{}
	maxCol, maxRow := 0, 0
	for i := range g.nodes {
		cols[d[i]] = append(cols[d[i]], i)
		maxCol = max(maxCol, d[i])
		maxRow = max(maxRow, len(cols[d[i]]))
	}
	x := make([]int, len(g.nodes))
	y := make([]int, len(g.nodes))
	for c, ns := range cols {
		for r, i := range ns {
			x[i] = margin + c*(nodeW+colGap)
			y[i] = 2*margin + r*(nodeH+rowGap)
		}
	}
	w := 2*margin + (maxCol+1)*(nodeW+colGap) - colGap
	h := 3*margin + max(maxRow, 1)*(nodeH+rowGap) - rowGap
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" id="diagram" role="img" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`, w, h, w, h)
	b.WriteString(`<title>service diagram</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#555"/></marker>` +
		`<marker id="arrow-bad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#c62828"/></marker></defs>`)
	if len(g.nodes) == 0 {
		b.WriteString(`<text x="30" y="40">no traces yet</text>`)
	}
	for _, e := range g.edges {
		x1, y1 := x[e.fromIdx]+nodeW, y[e.fromIdx]+nodeH/2
		x2, y2 := x[e.toIdx], y[e.toIdx]+nodeH/2
		ratio := 0.0
		if e.calls > 0 {
			ratio = e.failed / e.calls
		}
		color, marker := "#555", "arrow"
		if ratio >= 0.05 {
			color, marker = "#c62828", "arrow-bad"
		}
		dash := ""
		if e.conn == live.ConnMessaging {
			dash = ` stroke-dasharray="5 3"`
		}
		var path string
		span := (x2-x1-colGap)/(nodeW+colGap) + 1 // columns moved right
		lx, ly := (x1+x2)/2, (y1+y2)/2-4
		switch {
		case x2 > x1 && span <= 1:
			mx := (x1 + x2) / 2
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, mx, y1, mx, y2, x2, y2)
		case x2 > x1: // over the columns between, not through their nodes
			top := min(y1, y2) - nodeH/2 - 6 - 4*span
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1+colGap, top, x2-colGap, top, x2, y2)
			ly = top + 6
		default: // a call back to an earlier column (a cycle or self call): loop below
			bottom := max(y1, y2) + nodeH
			path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1+colGap/2, bottom, x2-colGap/2, bottom, x2, y2)
			ly = bottom - 4
		}
		label := fmt.Sprintf("%s calls, %s err", fmtCount(e.calls), fmtPct(ratio))
		fmt.Fprintf(&b, `<g class="edge" data-from="%s" data-to="%s"><title>%s → %s (%s): %s</title><path d="%s" fill="none" stroke="%s" stroke-width="1.5"%s marker-end="url(#%s)"/>`,
			esc(e.from), esc(e.to), esc(e.from), esc(e.to), esc(connName(e.conn)), esc(label), path, color, dash, marker)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="10" fill="%s">%s</text></g>`, lx, ly, color, esc(label))
	}
	for i, n := range g.nodes {
		style := `fill="#e3f2fd" stroke="#1565c0"`
		rx := 4
		switch n.Kind {
		case deps.User:
			style, rx = `fill="#f1f8e9" stroke="#558b2f"`, nodeH/2
		case deps.Peer:
			style = `fill="#fafafa" stroke="#616161" stroke-dasharray="4 3"`
		case deps.Topic:
			style, rx = `fill="#fff8e1" stroke="#ef6c00"`, 12
		}
		name := n.Name
		if n.Kind == deps.Topic {
			name = "topic " + name
		}
		if r := []rune(name); len(r) > maxLabel {
			name = string(r[:maxLabel-1]) + "…"
		}
		fmt.Fprintf(&b, `<g class="node" data-kind="%s" data-name="%s"><title>%s: %s</title><rect x="%d" y="%d" width="%d" height="%d" rx="%d" %s/>`,
			esc(string(n.Kind)), esc(n.Name), esc(string(n.Kind)), esc(n.Name), x[i], y[i], nodeW, nodeH, rx, style)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text></g>`, x[i]+nodeW/2, y[i]+nodeH/2+4, esc(name))
	}
	if g.hidden > 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">%d more nodes not drawn</text>`, margin, h-8, g.hidden)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func connName(c string) string {
	if c == "" {
		return "direct"
	}
	return c
}

func esc(s string) string { return html.EscapeString(s) }

func fmtCount(x float64) string {
	return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
}

func fmtPct(r float64) string { return strconv.FormatFloat(100*r, 'f', 1, 64) + "%" }

func value(snap *live.Snapshot, name string) float64 {
	f := snap.Family(name)
	if f == nil {
		return 0
	}
	var t float64
	for _, s := range f.Series {
		t += s.Value
	}
	return t
}

// writePage writes the HTML page: the diagram inline, the SLO table, and
// what the core has counted.
func writePage(w io.Writer, title string, snap *live.Snapshot, slos []live.SLO) error {
	var b strings.Builder
	t := esc(title)
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">` +
		`<link rel="icon" href="data:,"><title>` + t + ` live</title><style>` +
		`body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}` +
		`td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}` +
		`.bad{color:#c62828;font-weight:bold}.ok{color:#2e7d32}.muted{color:#777;font-size:90%}</style></head><body>`)
	b.WriteString(`<h1>` + t + ` live</h1>`)
	fmt.Fprintf(&b, `<p class="muted">at %s: %s traces, %s spans, %s spans assembling. Series at <a href="/metrics">/metrics</a>.</p>`,
		esc(snap.Time.UTC().Format(time.RFC3339)), fmtCount(value(snap, live.MetricTraces)), fmtCount(value(snap, live.MetricSpans)),
		fmtCount(value(snap, live.MetricHeld)))
	b.WriteString(`<h2>Service diagram</h2>`)
	b.WriteString(`<div style="overflow:auto">` + Diagram(snap) + `</div>`)
	b.WriteString(`<h2>SLOs</h2>`)
	if len(slos) == 0 {
		b.WriteString(`<p class="muted">No SLOs: start serve with --slos FILE.</p>`)
	} else {
		b.WriteString(`<table id="slos"><tr><th>SLO</th><th>selects</th><th>target</th><th>events</th><th>good</th><th>SLI</th><th>status</th></tr>`)
		for _, s := range slos {
			sel := "critical_operation=" + s.CriticalOperation
			if s.CriticalOperation == "" {
				sel = s.Service + " " + s.Operation
				if s.Latency > 0 {
					sel += " within " + s.Latency.String()
				}
			}
			sli, status, class := "–", "no events yet", "muted"
			if s.Total > 0 {
				r := s.Good / s.Total
				sli = strconv.FormatFloat(100*r, 'f', 2, 64) + "%"
				status, class = "meets target", "ok"
				if r < s.Target {
					status, class = "below target", "bad"
				}
			}
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s%%</td><td>%s</td><td>%s</td><td>%s</td><td class="%s">%s</td></tr>`,
				esc(s.Name), esc(strings.TrimSpace(sel)), strconv.FormatFloat(100*s.Target, 'f', -1, 64),
				fmtCount(s.Total), fmtCount(s.Good), sli, class, status)
		}
		b.WriteString(`</table>`)
	}
	b.WriteString(`</body></html>`)
	_, err := io.WriteString(w, b.String())
	return err
}
