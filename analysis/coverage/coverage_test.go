package coverage_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/coverage"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

const ownersYAML = `services:
  payment-gateway: {team: payments, channel: "#payments-oncall"}
  catalog: {team: discovery}
`

// checkout builds one checkout trace with every kind of hop: traced
// (edge -> cart, cart -> topic orders -> pay), terminal (a database),
// uninstrumented (payment-gateway sends no spans), server span missing
// (catalog, which is instrumented in the browse trace), and an unknown
// peer (a bare address).
func checkout(id string) []*trace.Span {
	mk := golden.Mk
	op := func(extra map[string]any) map[string]any {
		m := map[string]any{"critical_operation": "checkout", "flow_id": "flow-" + id}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	kafka := map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders"}
	consumer := map[string]any{"messaging.system": "kafka", "messaging.destination.name": "orders", "critical_operation": "checkout", "flow_id": "regenerated-" + id}
	return []*trace.Span{
		mk(id, "1", "", "edge", "POST /checkout", trace.KindServer, 0, 100, op(map[string]any{"http.method": "POST"})),
		mk(id, "2", "1", "edge", "cart/Checkout", trace.KindClient, 1, 60, op(map[string]any{"rpc.system": "grpc"})),
		mk(id, "3", "2", "cart", "cart/Checkout", trace.KindServer, 2, 59, op(map[string]any{"rpc.system": "grpc", "cart.internal_id": "x"})),
		mk(id, "4", "3", "cart", "POST", trace.KindClient, 3, 20, op(map[string]any{"http.method": "POST", "peer.service": "payment-gateway"})),
		mk(id, "5", "3", "cart", "send orders", trace.KindProducer, 21, 22, op(kafka)),
		mk(id, "6", "5", "pay", "process orders", trace.KindConsumer, 30, 40, consumer),
		mk(id, "7", "1", "edge", "SELECT", trace.KindClient, 61, 62, op(map[string]any{"db.system": "postgresql", "db.name": "shop"})),
		mk(id, "8", "1", "edge", "GET", trace.KindClient, 63, 70, op(map[string]any{"http.method": "GET", "peer.service": "catalog"})),
		mk(id, "9", "1", "edge", "GET", trace.KindClient, 71, 72, op(map[string]any{"http.method": "GET", "server.address": "10.0.0.5:80"})),
	}
}

func browse(id string) []*trace.Span {
	mk := golden.Mk
	a := map[string]any{"critical_operation": "browse", "flow_id": "f" + id, "http.method": "GET"}
	return []*trace.Span{
		mk(id, "1", "", "edge", "GET /products", trace.KindServer, 0, 50, a),
		mk(id, "2", "1", "edge", "GET", trace.KindClient, 1, 40, a),
		mk(id, "3", "2", "catalog", "GET /products", trace.KindServer, 2, 39, a),
	}
}

func aggregate(t *testing.T, traces ...[]*trace.Span) *coverage.Report {
	t.Helper()
	m, err := owners.Parse([]byte(ownersYAML), "owners.yaml")
	require.NoError(t, err)
	agg := coverage.New(m, nil, nil)
	agg.Expect("checkout", "refund")
	var spans []*trace.Span
	for _, tr := range traces {
		spans = append(spans, tr...)
	}
	for _, tr := range trace.Assemble(spans) {
		agg.Add(tr)
	}
	return agg.Report()
}

func TestHops(t *testing.T) {
	rep := aggregate(t, checkout("c1"), checkout("c2"), browse("b1"),
		// An unmarked trace: counted, not analysed.
		[]*trace.Span{golden.Mk("u1", "1", "", "edge", "GET /healthz", trace.KindServer, 0, 1, nil)})
	require.Len(t, rep.Operations, 3) // browse, checkout, and refund (expected, never seen)
	require.Equal(t, 1, rep.Unmarked)

	op := rep.Operations[1]
	require.Equal(t, "checkout", op.Name)
	require.Equal(t, 2, op.Traces)
	got := map[string]string{}
	for _, h := range op.Hops {
		got[h.From+">"+h.To] = h.Status
	}
	// Hand-derived from the trace above: 7 hops, 4 traced.
	require.Equal(t, map[string]string{
		"edge>cart":            coverage.Traced,
		"edge>catalog":         coverage.ServerMissing,
		"edge>postgresql shop": coverage.Terminal,
		"edge>10.0.0.5:80":     coverage.UnknownPeer,
		"cart>payment-gateway": coverage.Uninstrumented,
		"cart>orders":          coverage.Traced,
		"orders>pay":           coverage.Traced,
	}, got)
	require.Equal(t, 4, op.TracedHops)
	require.Equal(t, 7, op.TotalHops)
	require.Equal(t, "checkout: 4 of 7 hops traced; "+
		"catalog (team discovery): 2 of 2 calls from edge without its server span; "+
		"edge calls 10.0.0.5:80 that sends no spans; "+
		"payment-gateway (team payments) uninstrumented", op.Summary)

	for _, h := range op.Hops {
		switch h.From + ">" + h.To {
		case "orders>pay":
			require.Equal(t, 2, h.FlowIDLost, "the consumer regenerated the flow id")
		case "cart>payment-gateway":
			require.Equal(t, "payments", h.Team)
			require.Equal(t, "#payments-oncall", h.Channel)
		default:
			require.Zero(t, h.FlowIDLost, h.From+">"+h.To)
		}
	}
	services := map[string]*coverage.Service{}
	for _, s := range op.Services {
		services[s.Name] = s
	}
	require.False(t, services["payment-gateway"].Instrumented)
	require.Equal(t, "payments", services["payment-gateway"].Team)
	require.True(t, services["cart"].Instrumented)
	require.Equal(t, 2, services["cart"].OffRegistry, "cart.internal_id is not a registry key")
	require.Equal(t, []string{"cart.internal_id"}, services["cart"].UnknownKeys)
	require.Zero(t, services["edge"].OffRegistry)
	require.Equal(t, 2, services["pay"].Spans)

	refund := rep.Operations[2]
	require.Equal(t, "refund", refund.Name)
	require.Zero(t, refund.Traces)
	require.Equal(t, "refund: no trace seen: not traced at all", refund.Summary)

	browse := rep.Operations[0]
	require.Equal(t, "browse: 1 of 1 hops traced", browse.Summary)
}

func TestLostBaggage(t *testing.T) {
	mk := golden.Mk
	a := map[string]any{"critical_operation": "browse", "flow_id": "f1"}
	spans := []*trace.Span{
		mk("t", "1", "", "edge", "GET /products", trace.KindServer, 0, 50, a),
		mk("t", "2", "1", "edge", "GET", trace.KindClient, 1, 40, a),
		// catalog dropped both the flow id and the critical operation.
		mk("t", "3", "2", "catalog", "GET /products", trace.KindServer, 2, 39, nil),
	}
	rep := aggregate(t, spans)
	op := rep.Operations[0]
	require.Equal(t, "browse", op.Name)
	var catalog *coverage.Service
	for _, s := range op.Services {
		if s.Name == "catalog" {
			catalog = s
		}
	}
	require.NotNil(t, catalog)
	require.Equal(t, 1, catalog.NoFlowID)
	require.Equal(t, 1, catalog.NoCriticalOperation)
	require.Equal(t, 1, op.Hops[0].FlowIDLost)
	require.Equal(t, "browse: 1 of 1 hops traced; flow id missing in catalog; critical operation missing in catalog", op.Summary)
}

func TestOutputs(t *testing.T) {
	rep := aggregate(t, checkout("c1"), browse("b1"))
	var text, js, mmd bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.NoError(t, rep.WriteJSON(&js))
	require.NoError(t, rep.Mermaid(&mmd))

	require.Contains(t, text.String(), "checkout: 4 of 7 hops traced")
	require.Contains(t, text.String(), "cart -> payment-gateway")
	require.Contains(t, text.String(), "uninstrumented")

	var doc struct {
		Operations []struct {
			Name string `json:"name"`
			Hops []struct {
				Status string `json:"status"`
				Dark   bool   `json:"dark"`
			} `json:"hops"`
		} `json:"operations"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
	require.Len(t, doc.Operations, 3)
	dark := 0
	for _, h := range doc.Operations[1].Hops {
		if h.Dark {
			dark++
		}
	}
	require.Equal(t, 3, dark)

	m := mmd.String()
	require.True(t, strings.HasPrefix(m, "flowchart LR\n"))
	require.Contains(t, m, `payment-gateway (dark)"]:::dark`)
	require.Contains(t, m, `-.->|"uninstrumented"|`)
	require.Equal(t, 3, strings.Count(m, "linkStyle"), "one red style per dark hop")
}

func TestBounded(t *testing.T) {
	agg := coverage.New(nil, nil, nil)
	for i := 0; i < coverage.MaxOperations+10; i++ {
		id := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		s := golden.Mk(id, "1", "", "edge", "GET", trace.KindServer, 0, 1, map[string]any{"critical_operation": "op-" + id})
		agg.Add(trace.New(id, []*trace.Span{s}))
	}
	rep := agg.Report()
	require.Len(t, rep.Operations, coverage.MaxOperations)
	require.Equal(t, 10, rep.OperationsOverflow)

	// A hostile attribute key is clipped in the report.
	agg = coverage.New(nil, nil, nil)
	key := strings.Repeat("k", 1<<20)
	s := golden.Mk("h", "1", "", "edge", "GET", trace.KindServer, 0, 1, map[string]any{"critical_operation": "x", key: "v"})
	agg.Add(trace.New("h", []*trace.Span{s}))
	keys := agg.Report().Operations[0].Services[0].UnknownKeys
	require.Len(t, keys, 1)
	require.Less(t, len(keys[0]), 100)
}
