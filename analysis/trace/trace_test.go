package trace_test

import (
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func TestTraceHelpers(t *testing.T) {
	mk := golden.Mk
	p := map[string]any{"sampling.probability": 0.25, "critical_operation": "checkout", "traffic_source": "web"}
	spans := []*trace.Span{
		mk("t1", "a", "", "edge", "root", trace.KindServer, 0, 100, p),
		mk("t1", "b", "a", "edge", "c1", trace.KindClient, 10, 40, nil),
		mk("t1", "c", "a", "edge", "c2", trace.KindClient, 30, 60, nil), // overlaps b
		mk("t1", "d", "b", "cart", "s", trace.KindServer, 12, 38, nil),
		mk("t1", "d", "b", "cart", "dup", trace.KindServer, 12, 38, nil), // duplicate id dropped
		mk("t2", "x", "missing", "pay", "orphan", trace.KindConsumer, 5, 6, nil),
	}
	ts := trace.Assemble(spans)
	if len(ts) != 2 || ts[0].ID != "t1" || ts[1].ID != "t2" {
		t.Fatalf("Assemble: got %d traces", len(ts))
	}
	tr := ts[0]
	if len(tr.Spans) != 4 {
		t.Errorf("duplicate not dropped: %d spans", len(tr.Spans))
	}
	root := tr.Root()
	if root.SpanID != "a" || len(tr.Roots()) != 1 {
		t.Errorf("root = %v", root.SpanID)
	}
	if got := tr.SelfTime(root); got != 50*time.Millisecond {
		t.Errorf("SelfTime(root) = %v, want 50ms (100 - union [10,60])", got)
	}
	if got := tr.SelfTimeWithin(root, root.Start, root.Start.Add(20*time.Millisecond)); got != 10*time.Millisecond {
		t.Errorf("SelfTimeWithin = %v, want 10ms", got)
	}
	d := tr.Span("d")
	if tr.Depth(d) != 2 || tr.Parent(d).SpanID != "b" || len(tr.Children(root)) != 2 {
		t.Errorf("depth/parent/children wrong")
	}
	if tr.Weight() != 4 || tr.SpanWeight(d) != 4 || root.Weight() != 4 {
		t.Errorf("weights: trace %v span %v", tr.Weight(), tr.SpanWeight(d))
	}
	if tr.CriticalOperation() != "checkout" || tr.TrafficSource() != "web" {
		t.Errorf("critical op %q traffic %q", tr.CriticalOperation(), tr.TrafficSource())
	}
	if r := ts[1].Roots(); len(r) != 1 || r[0].SpanID != "x" || ts[1].Root() != nil {
		t.Errorf("an orphan is among Roots but is not the Root")
	}
	if got := trace.ExcludeTraffic(ts, "web"); len(got) != 1 || got[0].ID != "t2" {
		t.Errorf("ExcludeTraffic: %d", len(got))
	}
	var depths []int
	tr.Walk(root, func(s *trace.Span, depth int) bool { depths = append(depths, depth); return true })
	if len(depths) != 4 {
		t.Errorf("Walk visited %v", depths)
	}
}

func TestWeightInvalid(t *testing.T) {
	for _, v := range []any{0.0, -1.0, 2.0, "x", true} {
		s := &trace.Span{Attributes: map[string]any{"sampling.probability": v}}
		if s.Weight() != 1 {
			t.Errorf("Weight with p=%v = %v, want 1", v, s.Weight())
		}
	}
	s := &trace.Span{Attributes: map[string]any{}, Resource: map[string]any{"sampling.probability": "0.5", "team": "a"}}
	if s.Weight() != 2 || s.Team() != "a" {
		t.Errorf("resource fallback: weight %v team %q", s.Weight(), s.Team())
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]trace.Kind{"server": trace.KindServer, "CLIENT": trace.KindClient, "SPAN_KIND_PRODUCER": trace.KindProducer, "consumer": trace.KindConsumer, "": trace.KindUnspecified} {
		if got := trace.ParseKind(in); got != want {
			t.Errorf("ParseKind(%q) = %v", in, got)
		}
	}
}
