package deps_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// TestObserveMatchesGraph: the calls a Builder passes to its observer add
// up, edge by edge, to the graph it draws, on every model file (peers,
// unpaired calls, links, retries) and on the shop data. One difference is
// by design: an observer hears a call without a server side when it
// comes, so a peer named like a service whose first span comes later is
// still a peer node then (peers.jsonl: edge calls "cart" before cart's
// spans), where Graph, at the end, knows the service; the node's name is
// the same.
func TestObserveMatchesGraph(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "model", "*.jsonl"))
	require.NoError(t, err)
	files = append(files, filepath.Join("..", "testdata", "shop.jsonl"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			spans, err := source.ReadFile(f)
			require.NoError(t, err)
			traces := trace.Assemble(spans)
			b := deps.NewBuilder(trace.IndexTraces(traces))
			type k struct {
				from deps.Node
				to   string
				typ  deps.EdgeType
			}
			seen, unpaired := map[k]float64{}, map[k]int{}
			unresolved := 0
			b.Observe(func(o deps.Observed) {
				if o.To == (deps.Node{}) {
					unresolved++
					return
				}
				seen[k{o.From, o.To.Name, o.Type}] += o.Weight
				if o.Unpaired {
					unpaired[k{o.From, o.To.Name, o.Type}]++
				}
			})
			for _, tr := range traces {
				b.Add(tr)
			}
			require.Positive(t, b.Held())
			g := b.Graph()
			want := map[k]float64{}
			wantUnpaired := map[k]int{}
			for _, e := range g.Edges {
				key := k{e.From, e.To.Name, e.Type}
				want[key] += e.Weighted
				wantUnpaired[key] += e.Unpaired
			}
			require.Len(t, seen, len(want))
			for key, w := range want {
				require.InDelta(t, w, seen[key], 1e-6, "%v", key)
				require.LessOrEqual(t, unpaired[key], wantUnpaired[key], "%v", key)
			}
			n := 0
			for _, u := range g.Unresolved {
				n += u.Calls
			}
			require.Equal(t, n, unresolved)
		})
	}
}
