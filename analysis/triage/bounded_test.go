package triage

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Past the bad events a Triager keeps exactly they are merged into time
// buckets (keeping each bucket's first examples): over a window holding
// all the data, the counts, weights and examples are still Analyze's
// (burn.jsonl: 14 bad checkouts in 4 days), and the report says how wide
// the buckets are.
func TestTriagerBucketsPastExactBound(t *testing.T) {
	spans, err := source.ReadFile(filepath.Join("..", "slo", "testdata", "burn.jsonl"))
	require.NoError(t, err)
	cfg, err := slo.LoadFile(filepath.Join("..", "slo", "testdata", "burn.yaml"))
	require.NoError(t, err)
	traces := trace.Assemble(spans)
	now := slo.Latest(traces)
	want := Analyze(cfg.SLOs[0], traces, now)
	require.Equal(t, 14, want.BadEvents)
	require.Zero(t, want.EdgeResolution)

	tr := newTriager(cfg.SLOs[:1], 2, 4)
	for _, x := range traces {
		tr.Add(x)
	}
	got := tr.Report(0, now)
	require.Positive(t, got.EdgeResolution)
	got.EdgeResolution = 0
	require.Equal(t, want, got)
}
