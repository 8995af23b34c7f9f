package deps_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func TestGolden(t *testing.T) {
	g := deps.Build(trace.ExcludeTraffic(golden.Shop(t), "load-test")) // the CLI default
	var m, d bytes.Buffer
	if err := g.Mermaid(&m); err != nil {
		t.Fatal(err)
	}
	if err := g.DOT(&d); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "deps.mmd", m.Bytes())
	golden.Check(t, "deps.dot", d.Bytes())
	var svg bytes.Buffer
	switch err := g.SVG(context.Background(), &svg, 0); {
	case errors.Is(err, deps.ErrNoDot):
		t.Log("graphviz not installed; SVG not checked")
	case err != nil:
		t.Fatal(err)
	case !strings.Contains(svg.String(), "<svg"):
		t.Errorf("not SVG: %.100s", svg.String())
	}
}

func TestEdges(t *testing.T) {
	mk := golden.Mk
	kafka := func(kind string) map[string]any {
		return map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders", "sampling.probability": 0.5}
	}
	spans := []*trace.Span{
		mk("t", "1", "", "edge", "POST /x", trace.KindServer, 0, 100, map[string]any{"http.method": "POST", "sampling.probability": 0.5}),
		mk("t", "2", "1", "edge", "cart/Add", trace.KindClient, 1, 50, map[string]any{"rpc.system": "grpc", "sampling.probability": 0.5}),
		mk("t", "3", "2", "cart", "cart/Add", trace.KindServer, 2, 49, map[string]any{"rpc.system": "grpc"}),
		mk("t", "4", "3", "cart", "orders publish", trace.KindProducer, 10, 12, kafka("p")),
		mk("t", "5", "4", "pay", "orders process", trace.KindConsumer, 20, 30, kafka("c")),
		mk("t", "6", "1", "edge", "GET", trace.KindClient, 60, 70, map[string]any{"http.method": "GET", "peer.service": "legacy"}),
		mk("t", "7", "5", "ledger", "write", trace.KindServer, 21, 25, nil), // parent/child across services without a client span
	}
	spans[2].Error = true
	g := deps.Build(trace.Assemble(spans))
	var got []string
	for _, e := range g.Edges {
		got = append(got, e.From.Name+">"+e.To.Name+":"+string(e.Type)+":"+e.P50.String())
	}
	// legacy sends no spans: a peer node (sorted before services); the root
	// server span is called by the user.
	want := "cart>orders:kafka:2ms edge>legacy:http:10ms edge>cart:grpc:49ms pay>ledger:call:4ms orders>pay:kafka:10ms user>edge:http:100ms"
	if strings.Join(got, " ") != want {
		t.Errorf("edges:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if g.Edges[2].ErrorRatio != 1 || g.Edges[2].Calls != 1 || g.Edges[1].To.Kind != deps.Peer {
		t.Errorf("edge>cart: %+v", g.Edges[2])
	}
}
