package deps_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// A streaming Builder sees traces one at a time, in whatever order the
// assembler completes them: a public endpoint's trace may come before or
// after the trace of the client span it links to, and a service named by
// an unpaired call may appear only later. Either way the graph is Build's.
func TestBuilderOrderIndependent(t *testing.T) {
	mk := golden.Mk
	http := func() map[string]any { return map[string]any{"http.request.method": "GET"} }
	spans := []*trace.Span{
		mk("g", "1", "", "gateway", "GET /shop", trace.KindServer, 0, 100, http()),
		mk("g", "2", "1", "gateway", "GET", trace.KindClient, 10, 90, http()),
		mk("g", "3", "1", "gateway", "GET", trace.KindClient, 91, 95, map[string]any{"peer.service": "billing"}),
		mk("e", "1", "", "edge", "GET /shop", trace.KindServer, 20, 80, http()),
		mk("b", "1", "", "billing", "GET /bill", trace.KindServer, 200, 210, http()),
	}
	spans[3].Links = []trace.Link{{TraceID: "g", SpanID: "2"}}
	traces := trace.Assemble(spans)
	want := deps.Build(traces)
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}} {
		index := trace.NewSpanIndex(trace.DefaultIndexSpans)
		for _, s := range spans {
			index.Add(s)
		}
		b := deps.NewBuilder(index)
		for _, i := range order {
			b.Add(traces[i])
		}
		require.Equal(t, want, b.Graph(), "order %v", order)
	}
	require.Equal(t, 1, want.Integrity.UnpairedClients, "the call to billing is unpaired; the linked one is not")
}
