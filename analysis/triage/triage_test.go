package triage_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/analysis/triage"
)

func TestGolden(t *testing.T) {
	cfg, err := slo.LoadFile(golden.SLOFile())
	if err != nil {
		t.Fatal(err)
	}
	traces := trace.ExcludeTraffic(golden.Shop(t), "load-test")
	now := slo.Latest(traces)
	var reps []*triage.Report
	for _, s := range cfg.SLOs {
		reps = append(reps, triage.Analyze(s, traces, now))
	}
	var txt, js bytes.Buffer
	triage.WriteText(&txt, reps)
	triage.WriteJSON(&js, reps)
	golden.Check(t, "triage.txt", txt.Bytes())
	golden.Check(t, "triage.json", js.Bytes())
	if top := reps[0].Top(); top == nil || top.Service != "catalog" || top.Team != "catalog-team" {
		t.Errorf("checkout: top cause %+v, want catalog", top)
	}
}

func TestFind(t *testing.T) {
	mk := golden.Mk
	spans := []*trace.Span{
		mk("t", "1", "", "edge", "POST", trace.KindServer, 0, 300, nil),
		mk("t", "2", "1", "edge", "call cart", trace.KindClient, 10, 290, nil),
		mk("t", "3", "2", "cart", "Checkout", trace.KindServer, 12, 288, map[string]any{"team": "carts"}),
		mk("t", "4", "3", "catalog", "GET", trace.KindServer, 20, 60, map[string]any{"team": "cat"}),
		mk("t", "5", "3", "db", "query", trace.KindClient, 70, 100, nil),
		mk("t", "6", "3", "pay", "late consumer", trace.KindConsumer, 400, 900, nil), // after the event: ignored
	}
	for _, id := range []int{0, 1, 2, 3, 5} {
		spans[id].Error = true
	}
	tr := trace.Assemble(spans)[0]
	root := tr.Root()
	// Errors propagate 4 -> 3 -> 2 -> 1; 4 is the deepest own error. 6 fails
	// too but only after the response.
	if c := triage.Find(tr, root, true); c.Span.SpanID != "4" || c.Kind != triage.KindError || c.Span.Team() != "cat" {
		t.Errorf("error cause = %s %s", c.Span.SpanID, c.Kind)
	}
	// Latency: cart's own time (276ms - 40 - 30 = 206ms) dominates.
	if c := triage.Find(tr, root, false); c.Span.SpanID != "3" || c.SelfTime != 206*time.Millisecond {
		t.Errorf("latency cause = %s %v", c.Span.SpanID, c.SelfTime)
	}
}
