package live_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func shop(t *testing.T) ([]*trace.Span, *slo.Config) {
	t.Helper()
	spans, err := source.ReadFile(filepath.Join("..", "testdata", "shop.jsonl"))
	require.NoError(t, err)
	cfg, err := slo.LoadFile(filepath.Join("..", "testdata", "slos.yaml"))
	require.NoError(t, err)
	return spans, cfg
}

func scrape(t *testing.T, c *live.Core) livetest.Samples {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, c.Snapshot().WriteText(&b))
	s, err := livetest.Parse(&b)
	require.NoError(t, err)
	return s
}

// TestCoreMatchesTools: on the shop data the live series say what the
// one-shot tools say: edge call counts as deps, SLI counters as slo,
// fan-out as estimate.
func TestCoreMatchesTools(t *testing.T) {
	spans, cfg := shop(t)
	c := live.New(live.Config{SLOs: cfg})
	c.Add(spans)
	c.Flush()
	got := scrape(t, c)
	traces := trace.Assemble(spans)

	g := deps.Build(traces)
	require.NotEmpty(t, g.Edges)
	want := map[string]float64{}
	for _, e := range g.Edges {
		want[e.From.Name+"->"+e.To.Name] += e.Weighted
	}
	have := map[string]float64{}
	for _, s := range got.Family(live.MetricRequests) {
		have[s.Labels["client"]+"->"+s.Labels["server"]] += s.Value
	}
	require.Len(t, have, len(want))
	for k, w := range want {
		require.InDelta(t, w, have[k], 1e-6, k)
	}
	require.Positive(t, got.Sum(live.MetricRequests, "client", "user"), "root spans are called by the user node")

	rep := slo.Evaluate(cfg, traces, slo.Latest(traces))
	for _, r := range rep.Results {
		require.InDelta(t, r.Total, got.Value(live.MetricSLOEvents, "slo", r.Name), 1e-6, r.Name)
		require.InDelta(t, r.Good, got.Value(live.MetricSLOGood, "slo", r.Name), 1e-6, r.Name)
		require.Positive(t, r.Total, r.Name)
	}

	est := estimate.Compute(traces, []estimate.Demand{{Key: "checkout", PerSecond: 1}, {Key: "add-to-cart", PerSecond: 1}})
	n := 0
	for _, op := range est.Operations {
		for _, f := range op.Fanout {
			n++
			require.InDelta(t, f.PerTrace, got.Value(live.MetricFanout, "critical_operation", op.Key, "service", f.Service, "operation", f.Operation), 1e-9)
		}
	}
	require.Positive(t, n)

	require.Equal(t, float64(len(traces)), got.Value(live.MetricTraces))
	require.Equal(t, float64(len(spans)), got.Value(live.MetricSpans))
	var weighted float64
	for _, tr := range traces {
		for _, s := range tr.Spans {
			weighted += tr.SpanWeight(s)
		}
	}
	require.Greater(t, weighted, float64(len(spans)), "the shop samples: weights above 1")
	require.InDelta(t, weighted, got.Sum(live.MetricCalls), 1e-6)
	n = len(got.Family(live.MetricDuration + "_count"))
	require.InDelta(t, weighted, got.Sum(live.MetricDuration+"_count"), float64(n)/2, "histogram counts are rounded per series")
}

// TestCoreIdle: a trace is analysed once it has been idle for the idle
// time, not before.
func TestCoreIdle(t *testing.T) {
	spans, _ := shop(t)
	now := time.Unix(1000, 0)
	c := live.New(live.Config{Idle: 5 * time.Second, Now: func() time.Time { return now }})
	c.Add(spans)
	c.Expire()
	require.Zero(t, scrape(t, c).Value(live.MetricTraces))
	require.Equal(t, float64(len(spans)), scrape(t, c).Value(live.MetricHeld))
	now = now.Add(6 * time.Second)
	c.Expire()
	got := scrape(t, c)
	require.Equal(t, float64(len(trace.Assemble(spans))), got.Value(live.MetricTraces))
	require.Zero(t, got.Value(live.MetricHeld))
}

// TestCoreCardinality: 10,000 distinct operation names (and hostile
// names) keep each family at its series limit; the rest is counted.
func TestCoreCardinality(t *testing.T) {
	const limit = 100
	c := live.New(live.Config{MaxSeries: limit})
	start := time.Unix(2000, 0)
	var spans []*trace.Span
	for i := range 10_000 {
		name := fmt.Sprintf("GET /item/%d", i)
		if i%1000 == 0 {
			name = strings.Repeat("x\"\\\n\xff", 100_000) // 500 KB, invalid UTF-8, quotes
		}
		spans = append(spans, &trace.Span{TraceID: fmt.Sprintf("%032x", i+1), SpanID: fmt.Sprintf("%016x", i+1),
			Service: "svc", Name: name, Kind: trace.KindServer, Start: start, End: start.Add(time.Millisecond)})
	}
	c.Add(spans)
	c.Flush()
	var b bytes.Buffer
	require.NoError(t, c.Snapshot().WriteText(&b))
	require.Less(t, b.Len(), 1<<20, "exposition stays small")
	got, err := livetest.Parse(&b)
	require.NoError(t, err)
	calls := got.Family(live.MetricCalls)
	require.Len(t, calls, limit+1, "limit series and one overflow series")
	require.Equal(t, float64(10_000), got.Sum(live.MetricCalls))
	over := got.Value(live.MetricCalls, live.OverflowLabel, "true")
	require.Equal(t, float64(10_000-limit-9), over, "the ten hostile names share one series after the cut")
	require.Equal(t, over, got.Value(live.MetricOverflow, "metric", live.MetricCalls))
	for _, s := range calls {
		require.LessOrEqual(t, len(s.Labels["span_name"]), 256)
	}
}

// TestExpositionPromtool: Prometheus's own linter accepts the exposition
// (promtool, Debian package prometheus; required under CI=true).
func TestExpositionPromtool(t *testing.T) {
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not in PATH: .ci/run installs the Debian package prometheus")
		}
		t.Skip("promtool not in PATH (apt-get install prometheus)")
	}
	spans, cfg := shop(t)
	c := live.New(live.Config{SLOs: cfg})
	c.Add(spans)
	c.Flush()
	var b bytes.Buffer
	require.NoError(t, c.Snapshot().WriteText(&b))
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = &b
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Empty(t, strings.TrimSpace(string(out)))
}
