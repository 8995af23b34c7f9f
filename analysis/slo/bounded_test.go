package slo

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Past the events an Evaluator keeps exactly, the events are merged into
// time buckets: a window that holds all the data still counts every event
// exactly (burn.jsonl: 196 events over 4 days, 182 good, as
// TestWindowFile has it), and the result says how wide the buckets are.
func TestEvaluatorBucketsPastExactBound(t *testing.T) {
	spans, err := source.ReadFile(filepath.Join("testdata", "burn.jsonl"))
	require.NoError(t, err)
	cfg, err := LoadFile(filepath.Join("testdata", "burn.yaml"))
	require.NoError(t, err)
	traces := trace.Assemble(spans)
	e := newEvaluator(cfg, 50, 64)
	for _, tr := range traces {
		e.Add(tr)
	}
	rep := e.Report(e.Latest())
	exact := Evaluate(cfg, traces, Latest(traces))
	r := rep.Results[0]
	require.Equal(t, 196, r.Events)
	require.Equal(t, 196.0, r.Total)
	require.Equal(t, 182.0, r.Good)
	require.Equal(t, exact.Results[0].Compliant, r.Compliant)
	require.Equal(t, exact.Results[0].Coverage, r.Coverage)
	// 4 days in at most 64 buckets doubling from 1s: 2^13 s.
	require.Equal(t, 8192*time.Second, r.EdgeResolution)
	require.Zero(t, exact.Results[0].EdgeResolution)
	var b bytes.Buffer
	require.NoError(t, rep.WriteText(&b))
	require.Contains(t, b.String(), "more events than kept exactly: the window's start resolved to 2h16m32s")
}
