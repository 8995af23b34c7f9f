package deps_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// edges renders a graph's edges one per line: from>to type calls[/messages][ unpaired] p50.
func edges(g *deps.Graph) []string {
	var out []string
	for _, e := range g.Edges {
		s := fmt.Sprintf("%s:%s>%s:%s %s %d", e.From.Kind, e.From.Name, e.To.Kind, e.To.Name, e.Type, e.Calls)
		if e.Messages > 0 {
			s += fmt.Sprintf("/%dmsg", e.Messages)
		}
		if e.Unpaired > 0 {
			s += fmt.Sprintf(" unpaired=%d", e.Unpaired)
		}
		out = append(out, s+" "+e.P50.String())
	}
	return out
}

func nodes(g *deps.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		out = append(out, string(n.Kind)+":"+n.Name)
	}
	return out
}

// testdata/model/broken.jsonl (see package trace's tests for the traces).
// Trace 2's client span names only rpc.service shop.Cart: cart serves
// shop.Cart in trace 1, so it is one unpaired call to cart, not a node
// "shop.Cart". Trace 3's only names 127.0.0.1: it reaches no node. Trace 4's
// catalog calls itself: a loop. The orphans of traces 5 and 6 draw nothing.
func TestBrokenTraces(t *testing.T) {
	g := deps.Build(golden.Model(t, "broken.jsonl"))
	require.Equal(t, []string{"service:cart", "service:catalog", "service:edge", "user:user"}, nodes(g))
	require.Equal(t, []string{
		"service:catalog>service:catalog http 1 60ms",
		"service:edge>service:cart grpc 2 unpaired=1 80ms",
		"service:edge>service:catalog http 1 90ms",
		"user:user>service:edge http 5 100ms",
	}, edges(g))
	require.Equal(t, []deps.Unresolved{{From: "edge", Peer: "127.0.0.1", Calls: 1}}, g.Unresolved)
	require.Equal(t, 2, g.Integrity.Orphans)
	require.Equal(t, 2, g.Integrity.UnpairedClients)
	var m bytes.Buffer
	require.NoError(t, g.Mermaid(&m))
	require.Contains(t, m.String(), "    %% 1 traces without a root span, 2 orphan spans (parent missing), 2 client spans without a server side, 2 server spans without their client span in 6 traces\n")
	require.Contains(t, m.String(), "    %% 1 calls from edge to 127.0.0.1 reach no node")
	require.Contains(t, m.String(), `svc_catalog -->|"http 1 calls, 0.0% err, p50 60ms, p99 60ms"| svc_catalog`)
	require.Contains(t, m.String(), `svc_edge ==>|"grpc 2 calls (1 unpaired), 0.0% err, p50 80ms, p99 80ms"| svc_cart`)
}

// testdata/model/peers.jsonl: edge calls a database, a cache, a third-party
// API and a legacy service that send no spans: each is a peer node. Its
// call to cart (peer.service=cart) has no server span, but cart is in the
// data: an unpaired call to cart. 10.0.0.7 names no system: no node.
func TestUninstrumentedPeers(t *testing.T) {
	g := deps.Build(golden.Model(t, "peers.jsonl"))
	require.Equal(t, []string{"peer:api.stripe.com", "peer:legacy-billing", "peer:postgresql carts", "peer:postgresql products", "peer:redis 0",
		"service:cart", "service:edge", "user:user"}, nodes(g))
	require.Equal(t, []string{
		"service:cart>peer:postgresql carts call 1 10ms",
		"service:edge>peer:api.stripe.com http 1 50ms",
		"service:edge>peer:legacy-billing http 1 20ms",
		"service:edge>peer:postgresql products call 1 20ms",
		"service:edge>peer:redis 0 call 1 5ms",
		"service:edge>service:cart http 2 unpaired=1 25ms",
		"user:user>service:edge http 2 100ms",
	}, edges(g))
	require.Equal(t, []deps.Unresolved{{From: "edge", Peer: "10.0.0.7", Calls: 1}}, g.Unresolved)
	require.Equal(t, 2, g.Integrity.UnpairedClients)
	var d bytes.Buffer
	require.NoError(t, g.DOT(&d))
	require.Contains(t, d.String(), `"peer:postgresql products" [label="postgresql products", style=dashed];`)
	require.Contains(t, d.String(), `"user:user" [label="user", shape=ellipse];`)
}

// testdata/model/links.jsonl: three checkouts publish one order each, one
// also a refund; payment consumes the three orders in one batch linked to
// the three producer spans, and the refund in a trace of its own linked to
// its producer.
func TestLinksAndBatches(t *testing.T) {
	g := deps.Build(golden.Model(t, "links.jsonl"))
	require.Equal(t, []string{
		"service:edge>topic:orders kafka 3 2ms",
		"service:edge>topic:refunds kafka 1 2ms",
		"topic:orders>service:payment kafka 1/3msg 50ms",
		"topic:refunds>service:payment kafka 1/1msg 10ms",
		"user:user>service:edge http 3 50ms",
	}, edges(g))
	require.Equal(t, 4, g.Links)
	require.Zero(t, g.DanglingLinks)
	var m bytes.Buffer
	require.NoError(t, g.Mermaid(&m))
	require.True(t, strings.Contains(m.String(), `topic_orders -.->|"kafka 3 messages in 1 batches, 0.0% err, p50 50ms, p99 50ms"| svc_payment`), m.String())
}

// A consumer that names no topic and is reached only through links gets an
// edge from each linked span's service; a link to a span not in the data is
// counted.
func TestLinkOnlyConsumerWithoutTopic(t *testing.T) {
	mk := golden.Mk
	spans := []*trace.Span{
		mk("a", "1", "", "api", "POST /jobs", trace.KindServer, 0, 10, nil),
		mk("a", "2", "1", "api", "enqueue", trace.KindProducer, 2, 3, nil),
		mk("a", "3", "1", "api", "enqueue", trace.KindProducer, 4, 5, nil),
		mk("b", "1", "", "worker", "run jobs", trace.KindConsumer, 20, 40, nil),
	}
	// one batch of two jobs from api, and one whose producer is not in the data
	spans[3].Links = []trace.Link{{TraceID: "a", SpanID: "2"}, {TraceID: "a", SpanID: "3"}, {TraceID: "gone", SpanID: "9"}}
	g := deps.Build(trace.Assemble(spans))
	require.Equal(t, []string{"service:api>service:worker call 1/2msg 20ms", "user:user>service:api call 1 10ms"}, edges(g))
	require.Equal(t, 2, g.Links)
	require.Equal(t, 1, g.DanglingLinks)
	require.Contains(t, g.Notes(), "1 span links point at spans not in the data")
}

// A public endpoint starts a new trace linked to its caller's client span
// (tracehttp.WithPublicEndpoint): the call is gateway -> edge, through the
// link, not user -> edge with an unpaired client span in gateway.
func TestPublicEndpointPairedByLink(t *testing.T) {
	mk := golden.Mk
	http := func() map[string]any { return map[string]any{"http.request.method": "GET"} }
	spans := []*trace.Span{
		mk("g", "1", "", "gateway", "GET /shop", trace.KindServer, 0, 100, http()),
		mk("g", "2", "1", "gateway", "GET", trace.KindClient, 10, 90, http()),
		mk("e", "1", "", "edge", "GET /shop", trace.KindServer, 20, 80, http()),
	}
	spans[2].Links = []trace.Link{{TraceID: "g", SpanID: "2"}}
	g := deps.Build(trace.Assemble(spans))
	require.Equal(t, []string{"service:gateway>service:edge http 1 80ms", "user:user>service:gateway http 1 100ms"}, edges(g))
	require.Zero(t, g.Integrity.UnpairedClients)
}
