package promtriage

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/owners"
)

// Connection types of the service-graph series that change the walk (see
// the package documentation).
const (
	connMessaging = live.ConnMessaging
	connVirtual   = live.ConnVirtual
	connDatabase  = live.ConnDatabase
)

// userNode is the client of the edges into root spans.
const userNode = "user"

// Edge is one client → server edge of the service graph over the window.
type Edge struct {
	Client         string  `json:"client"`
	Server         string  `json:"server"`
	ConnectionType string  `json:"connection_type,omitempty"`
	Requests       float64 `json:"requests"`
	Failed         float64 `json:"failed"`
}

// Graph is the service graph read from Prometheus.
type Graph struct {
	Edges []Edge
	out   map[string][]int // client -> edges
	in    map[string][]int // server -> edges
	// Skipped counts samples left out: not a finite number, or missing the
	// client or server label.
	Skipped int
}

// NewGraph indexes edges (edges with the same client, server and
// connection type are summed).
func NewGraph(edges []Edge) *Graph {
	g := &Graph{out: map[string][]int{}, in: map[string][]int{}}
	idx := map[[3]string]int{}
	for _, e := range edges {
		k := [3]string{e.Client, e.Server, e.ConnectionType}
		if i, ok := idx[k]; ok {
			g.Edges[i].Requests += e.Requests
			g.Edges[i].Failed += e.Failed
			continue
		}
		idx[k] = len(g.Edges)
		g.Edges = append(g.Edges, e)
	}
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		return cmp.Or(strings.Compare(a.Client, b.Client), strings.Compare(a.Server, b.Server), strings.Compare(a.ConnectionType, b.ConnectionType))
	})
	for i, e := range g.Edges {
		g.out[e.Client] = append(g.out[e.Client], i)
		g.in[e.Server] = append(g.in[e.Server], i)
	}
	return g
}

// Fetch reads the per-edge request and failed-request increases over
// (end-window, end] (end zero: the server's now).
func Fetch(ctx context.Context, c *Client, end time.Time, window time.Duration) (*Graph, error) {
	if window < time.Second {
		return nil, fmt.Errorf("window %s: want at least 1s", window)
	}
	rng := "[" + strconv.FormatInt(int64(window/time.Second), 10) + "s]"
	q := func(metric string) string {
		return "sum by (client, server, connection_type) (increase(" + metric + rng + "))"
	}
	total, skipT, err := c.Query(ctx, q(live.MetricRequests), end)
	if err != nil {
		return nil, err
	}
	failed, skipF, err := c.Query(ctx, q(live.MetricRequestsFailed), end)
	if err != nil {
		return nil, err
	}
	skipped := skipT + skipF
	byKey := map[[3]string]*Edge{}
	var keys [][3]string
	add := func(ss []Sample, f func(e *Edge, v float64)) {
		for _, s := range ss {
			k := [3]string{s.Labels["client"], s.Labels["server"], s.Labels["connection_type"]}
			if k[0] == "" || k[1] == "" {
				skipped++
				continue
			}
			e := byKey[k]
			if e == nil {
				e = &Edge{Client: k[0], Server: k[1], ConnectionType: k[2]}
				byKey[k] = e
				keys = append(keys, k)
			}
			f(e, s.Value)
		}
	}
	add(total, func(e *Edge, v float64) { e.Requests += v })
	add(failed, func(e *Edge, v float64) { e.Failed += v })
	edges := make([]Edge, 0, len(keys))
	for _, k := range keys {
		edges = append(edges, *byKey[k])
	}
	g := NewGraph(edges)
	g.Skipped = skipped
	return g, nil
}

// Served returns the requests a node served and the failures it returned
// to its callers: the sums over its incoming edges.
func (g *Graph) Served(node string) (requests, failed float64) {
	for _, i := range g.in[node] {
		requests += g.Edges[i].Requests
		failed += g.Edges[i].Failed
	}
	return requests, failed
}

// Hop is one node on the path from the start to the cause.
type Hop struct {
	Service string `json:"service"`
	// Via is the edge into this hop (nil for the start).
	Via *Edge `json:"via,omitempty"`
	// Requests and Failed are what the service served and failed over the
	// window, from all callers.
	Requests float64 `json:"requests"`
	Failed   float64 `json:"failed"`
	// Share is Via.Failed over the caller's failures, capped at 1: how
	// much of the caller's failures these calls could explain.
	Share float64 `json:"share_of_caller_failures,omitempty"`
	// Peer marks a node that sends no spans (a database, an uninstrumented
	// service seen only from its callers' client spans).
	Peer bool `json:"uninstrumented_peer,omitempty"`
}

// Finding is the walk from one failing entry point to the service nearest
// the cause.
type Finding struct {
	Start string `json:"start"`
	Path  []Hop  `json:"path"`
	// Cause is the service nearest the cause: the last hop, or the caller
	// of an uninstrumented peer the ownership file does not list.
	Cause   string `json:"cause"`
	Team    string `json:"team,omitempty"`
	Channel string `json:"channel,omitempty"`
	// Peer is the uninstrumented peer whose failing calls Cause makes,
	// when the walk ended at one the ownership file does not list.
	Peer string `json:"failing_peer,omitempty"`
}

// Blame walks from start (every failing entry point when empty) to the
// service nearest the cause of its failures, and names the cause's team
// and channel from own (nil: none). See the package documentation for the
// rule.
func Blame(g *Graph, start string, own *owners.Map) ([]Finding, error) {
	var starts []string
	if start != "" {
		if len(g.in[start]) == 0 && len(g.out[start]) == 0 {
			return nil, fmt.Errorf("service %q has no service-graph series in the window", start)
		}
		starts = []string{start}
	} else {
		starts = g.entryPoints()
	}
	var out []Finding
	for _, s := range starts {
		f := g.walk(s)
		o := own.Resolve(f.Cause, "")
		if f.Peer != "" {
			if po, ok := own.Lookup(f.Peer); ok {
				// The ownership file knows who owns the peer: it is
				// nearer the cause than the service calling it.
				f.Cause, f.Peer, o = f.Peer, "", po
			}
		}
		f.Team, f.Channel = o.Team, o.Channel
		out = append(out, f)
	}
	return out, nil
}

// entryPoints are the services the user node calls that failed requests,
// most failures first (none when the user saw no failure: whatever failed
// inside was recovered from); in a graph without the user node, the
// failing nodes that no failing caller calls.
func (g *Graph) entryPoints() []string {
	type ep struct {
		name   string
		failed float64
	}
	var eps []ep
	seen := map[string]bool{}
	for _, i := range g.out[userNode] {
		e := g.Edges[i]
		if _, f := g.Served(e.Server); f > 0 && !seen[e.Server] {
			seen[e.Server] = true
			eps = append(eps, ep{e.Server, f})
		}
	}
	if len(g.out[userNode]) == 0 { // a graph without the user node
		for node := range g.in {
			_, f := g.Served(node)
			if f <= 0 || node == userNode {
				continue
			}
			top := true
			for _, i := range g.in[node] {
				e := g.Edges[i]
				if _, cf := g.Served(e.Client); e.Failed > 0 && cf > 0 && e.ConnectionType != connMessaging {
					top = false
				}
			}
			if top {
				eps = append(eps, ep{node, f})
			}
		}
	}
	slices.SortFunc(eps, func(a, b ep) int { return cmp.Or(cmp.Compare(b.failed, a.failed), strings.Compare(a.name, b.name)) })
	names := make([]string, len(eps))
	for i, e := range eps {
		names[i] = e.name
	}
	return names
}

func (g *Graph) hop(node string, via *Edge) Hop {
	h := Hop{Service: node, Via: via}
	h.Requests, h.Failed = g.Served(node)
	return h
}

// walk follows failures down from start: at each service that failed
// requests, to the callee whose calls failed most (synchronous calls only:
// a consumer's failure does not reach the producer's caller), until a
// service with no failing calls of its own, or an uninstrumented peer.
func (g *Graph) walk(start string) Finding {
	f := Finding{Start: start, Path: []Hop{g.hop(start, nil)}, Cause: start}
	visited := map[string]bool{start: true}
	cur := start
	for range len(g.Edges) + 1 {
		_, curFailed := g.Served(cur)
		if curFailed <= 0 {
			break // nothing failed here: callee failures were recovered from
		}
		var best *Edge
		for _, i := range g.out[cur] {
			e := &g.Edges[i]
			if e.Failed <= 0 || e.ConnectionType == connMessaging || visited[e.Server] {
				continue
			}
			if best == nil || e.Failed > best.Failed || (e.Failed == best.Failed && ratio(e) > ratio(best)) {
				best = e
			}
		}
		if best == nil {
			break
		}
		via := *best
		h := g.hop(best.Server, &via)
		h.Share = min(1, best.Failed/curFailed)
		if best.ConnectionType == connVirtual || best.ConnectionType == connDatabase {
			h.Peer = true
			f.Path = append(f.Path, h)
			f.Peer = best.Server
			break
		}
		f.Path = append(f.Path, h)
		visited[best.Server] = true
		cur = best.Server
		f.Cause = cur
	}
	return f
}

func ratio(e *Edge) float64 {
	if e.Requests <= 0 {
		return 0
	}
	return e.Failed / e.Requests
}

// Report is the triage of a Prometheus's service graph.
type Report struct {
	Prometheus string        `json:"prometheus"`
	End        time.Time     `json:"end,omitzero"`
	Window     time.Duration `json:"window_ns"`
	Edges      int           `json:"edges"`
	Skipped    int           `json:"skipped_samples,omitempty"`
	Findings   []Finding     `json:"findings"`
}

// WriteText writes the report in human-readable form.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	end := "now"
	if !r.End.IsZero() {
		end = r.End.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "service graph of %s: %d edges over %s ending %s\n", r.Prometheus, r.Edges, r.Window, end)
	if r.Skipped > 0 {
		fmt.Fprintf(&b, "  (%d samples left out: not a number, or no client/server label)\n", r.Skipped)
	}
	if len(r.Findings) == 0 {
		b.WriteString("no failed requests in the service graph; nothing to triage\n")
	}
	for _, f := range r.Findings {
		s := f.Path[0]
		fmt.Fprintf(&b, "\nfrom %s: %s of %s requests failed (%s)\n", s.Service, num(s.Failed), num(s.Requests), pct(s.Failed, s.Requests))
		for _, h := range f.Path[1:] {
			e := h.Via
			peer := ""
			if h.Peer {
				peer = fmt.Sprintf(" (%s, sends no spans)", strings.ReplaceAll(e.ConnectionType, "_", " "))
			}
			fmt.Fprintf(&b, "  %s -> %s%s: %s of %s calls failed (%s), up to %s of %s's failures\n",
				e.Client, e.Server, peer, num(e.Failed), num(e.Requests), pct(e.Failed, e.Requests), pct(h.Share, 1), e.Client)
		}
		team := f.Team
		if team == "" {
			team = "(unknown: not in an ownership file)"
		} else if f.Channel != "" {
			team += " at " + f.Channel
		}
		cause := f.Cause
		if f.Peer != "" {
			cause += " (its calls to " + f.Peer + " fail)"
		}
		fmt.Fprintf(&b, "  most likely cause: %s: page team %s\n", cause, team)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

func pct(a, b float64) string {
	if b <= 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*a/b, 'f', 1, 64) + "%"
}
