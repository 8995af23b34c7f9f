package analysis_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/internal/shopdata"
	"github.com/flowtrace/flowtrace/analysis/red"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// TestShopFile keeps testdata/shop.jsonl equal to the generator's output, or
// rewrites it with -update. Once the file is one the shop demo recorded (it
// no longer carries the generator's scope name), the test skips.
func TestShopFile(t *testing.T) {
	var buf bytes.Buffer
	if err := shopdata.WriteJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	path := golden.ShopFile()
	if *golden.Update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to generate it)", err)
	}
	if !strings.Contains(string(have), shopdata.ScopeName) {
		t.Skip("span file was recorded by the demo, not generated")
	}
	if !bytes.Equal(have, buf.Bytes()) {
		t.Error("testdata/shop.jsonl is not what the generator writes; rerun with -update")
	}
}

// TestMixedVocabulary: testdata/mixed-vocabulary.jsonl is a fleet
// mid-migration, the same calls web → checkout (HTTP), checkout → cart
// (gRPC), checkout → inventory (gRPC, no server span) and checkout →
// PostgreSQL, four traces in the legacy tag names
// and four in OpenTelemetry's stable ones (OTEL_SEMCONV_STABILITY_OPT_IN).
// The tools read both: one edge per pair with the eight calls summed, one
// RED row per operation. (Before, the gRPC call was two edges, "call" and
// "grpc", the legacy database calls reached no node, and inventory was two
// nodes, "inventory:7070" and "inventory".)
func TestMixedVocabulary(t *testing.T) {
	spans, err := source.ReadFile(filepath.Join(golden.Testdata(), "mixed-vocabulary.jsonl"))
	require.NoError(t, err)
	traces := trace.Assemble(spans)
	require.Len(t, traces, 8)

	g := deps.Build(traces)
	type edge struct{ from, to, typ string }
	got := map[edge][2]int{}
	for _, e := range g.Edges {
		k := edge{e.From.Name, e.To.Name, string(e.Type)}
		_, dup := got[k]
		require.False(t, dup, "edge %v twice", k)
		got[k] = [2]int{e.Calls, e.Errors}
	}
	require.Equal(t, map[edge][2]int{
		{"user", "web", "http"}:                   {8, 2},
		{"web", "checkout", "http"}:               {8, 2},
		{"checkout", "cart", "grpc"}:              {8, 0},
		{"checkout", "inventory", "grpc"}:         {8, 0}, // no server span: peer.address inventory:7070 or server.address inventory
		{"checkout", "postgresql orders", "call"}: {8, 2},
	}, got)
	require.Empty(t, g.Unresolved)

	rows := map[string]int{}
	for _, r := range red.Compute(traces).Rows {
		rows[r.Service+" "+r.Operation] += r.Count
	}
	require.Equal(t, map[string]int{"web GET /checkout": 8, "checkout POST /pay": 8, "cart cart.Cart/Reserve": 8}, rows)
}
