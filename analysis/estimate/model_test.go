package estimate_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
)

func fanouts(o estimate.Operation) map[string]estimate.Fanout {
	out := map[string]estimate.Fanout{}
	for _, f := range o.Fanout {
		out[f.Service+" "+f.Operation] = f
	}
	return out
}

// testdata/model/links.jsonl: three checkouts (weight 1 each) publish one
// order each and the first also a refund. payment consumes the three
// orders in one batch span linked to the three producer spans
// (ConsumeBatch), and the refund in a trace of its own linked to its
// producer (WithLinkOnly); neither consumer trace carries
// critical_operation. At checkout=300/s:
//
//	payment "process orders": one batch of 3 per 3 checkouts: 1/3 batch and
//	  1 message per checkout: 100 batches/s, 300 messages/s
//	payment "process refunds": 1 call per 3 checkouts: 100/s
//	topics: orders 300/s, refunds 100/s
func TestFollowsLinks(t *testing.T) {
	fc, err := estimate.ParseForecast("checkout=300/s")
	require.NoError(t, err)
	est := estimate.Compute(golden.Model(t, "links.jsonl"), fc)
	co := est.Operations[0]
	require.Equal(t, 3, co.Traces)
	f := fanouts(co)
	require.Len(t, f, 3)
	require.Equal(t, estimate.Fanout{Service: "edge", Operation: "POST /checkout", Spans: 3, PerTrace: 1, PerSecond: 300}, f["edge POST /checkout"])
	require.Equal(t, estimate.Fanout{Service: "payment", Operation: "process orders", Spans: 3, PerTrace: 0.333333, PerSecond: 100,
		MessagesPerTrace: 1, MessagesPerSecond: 300, ViaLinks: 3}, f["payment process orders"])
	require.Equal(t, estimate.Fanout{Service: "payment", Operation: "process refunds", Spans: 1, PerTrace: 0.333333, PerSecond: 100, ViaLinks: 1},
		f["payment process refunds"])
	require.Equal(t, []estimate.TopicLoad{{Topic: "orders", PerSecond: 300, Messages: 3}, {Topic: "refunds", PerSecond: 100, Messages: 1}}, est.Topics)
	require.Equal(t, 4, est.Links)
	require.Zero(t, est.DanglingLinks)
	var b bytes.Buffer
	require.NoError(t, est.WriteText(&b))
	require.Contains(t, b.String(), "(calls are batches of 300.0 messages/s; 3 via links)")
	require.Contains(t, b.String(), "  payment        process orders   100.0    3  (calls are batches of 300.0 messages/s)\n")
}

// testdata/model/broken.jsonl at checkout=100/s: traces 1, 2, 5 and 6
// carry critical_operation=checkout (weighted 4). The edge's span is in 1, 2
// and 5: 0.75, 75/s. cart's server span is in 1 and, as orphans, in 5 and 6:
// 75/s, but trace 2's call to cart has no server span, so the true cart
// load is higher: the estimate says so instead of undercounting silently.
func TestBrokenTracesNoted(t *testing.T) {
	fc, err := estimate.ParseForecast("checkout=100/s")
	require.NoError(t, err)
	est := estimate.Compute(golden.Model(t, "broken.jsonl"), fc)
	co := est.Operations[0]
	require.Equal(t, 4, co.Traces)
	f := fanouts(co)
	require.Equal(t, 75.0, f["edge POST /checkout"].PerSecond)
	require.Equal(t, 75.0, f["cart shop.Cart/Checkout"].PerSecond)
	require.Equal(t, []string{
		"1 client calls in the matching traces have no server span: the load they cause downstream is missing",
		"2 orphan spans (1 traces without a root) in the matching traces: spans between them and their callers are missing",
	}, co.Notes)
	require.Contains(t, est.Warnings(), "checkout: "+co.Notes[0])
	require.Equal(t, 2, est.Integrity.UnpairedClients)
	var b bytes.Buffer
	require.NoError(t, est.WriteText(&b))
	require.True(t, strings.HasPrefix(b.String(), "data: 1 traces without a root span, 2 orphan spans"), b.String())
}
