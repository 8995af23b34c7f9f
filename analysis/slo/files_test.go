package slo_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func load(t *testing.T, name string) ([]*trace.Trace, *slo.Config) {
	t.Helper()
	spans, err := source.ReadFile(filepath.Join("testdata", name+".jsonl"))
	require.NoError(t, err)
	cfg, err := slo.LoadFile(filepath.Join("testdata", name+".yaml"))
	require.NoError(t, err)
	return trace.Assemble(spans), cfg
}

// testdata/checkout.jsonl, written by hand: four checkouts, edge "POST
// /checkout" (server) -> edge "cart.Checkout" (client) -> cart
// "cart.Checkout" (server), the fourth failing on both sides; and two edge
// "GET /browse" requests. Issue 16 item 7.
func TestSelectorsFile(t *testing.T) {
	traces, cfg := load(t, "checkout")
	rep := slo.Evaluate(cfg, traces, slo.Latest(traces))
	byName := map[string]slo.Result{}
	for _, r := range rep.Results {
		byName[r.Name] = r
	}

	// The edge serves GET /browse, not GET /products: an error, not
	// "100% compliance, budget left 100%: ok" (030e853).
	r := byName["browse-latency"]
	require.Equal(t, 0, r.Matched)
	require.Contains(t, r.Error, "no span in the data matches edge GET /products")
	require.Equal(t, []string{"SLO browse-latency: " + r.Error}, rep.Errors())
	require.False(t, r.Firing())

	// No service, no kind: the four server spans, not 8 events (030e853
	// counted the edge's client spans too).
	r = byName["cart-checkout"]
	require.Empty(t, r.Error)
	require.Equal(t, 4, r.Events)
	require.Equal(t, 4.0, r.Total)
	require.Equal(t, 3.0, r.Good)
	require.Equal(t, 0.75, r.Compliant)

	// kind: client selects the caller's side.
	r = byName["cart-checkout-client"]
	require.Equal(t, 4, r.Events)
	require.Equal(t, 0.75, r.Compliant)
	require.Equal(t, "* cart.Checkout (client)", r.Selector)
	for _, e := range slo.Events(cfg.SLOs[2], traces) {
		require.Equal(t, trace.KindClient, e.Span.Kind)
		require.Equal(t, "edge", e.Span.Service)
	}
}

// testdata/burn.jsonl, written by hand: edge "POST /checkout" server spans
// (10 ms). One good request an hour ending at now-1h-k·1h for k = 0..95
// (four days), then 100 requests in the last five minutes ending at
// now-i·3s, the 14 latest failing. now is the last span end. Against a
// 99% target (1% budget):
//
//	1h and 5m windows: 100 events, 14 bad: burn 14
//	6h: 105 events: burn 13.3333;  30m: 100: 14
//	3d: 171 events: burn 8.1871;   6h: 13.3333
//	whole window: 196 events, 182 good: compliance 0.928571,
//	budget left 1 - (14/196)/0.01 = -6.142857
//
// The workbook's fast page (2% of the budget in 1h) is a burn of
// 0.02 × 28d / 1h = 13.44 for a 28-day SLO, which 14 exceeds, and 14.4 for
// 30 days, which it does not. 030e853 used 14.4 for both. The data covers
// 96h + 10ms: 0.142857 of 28 days, 0.133333 of 30. Issue 16 item 7.
func TestWindowFile(t *testing.T) {
	traces, cfg := load(t, "burn")
	now := slo.Latest(traces)
	require.Equal(t, time.Date(2026, 1, 5, 4, 0, 0, 0, time.UTC), now)
	rep := slo.Evaluate(cfg, traces, now)
	require.Empty(t, rep.Errors())
	type alert struct {
		threshold, long, short float64
		firing                 bool
	}
	for _, tc := range []struct {
		name     string
		coverage float64
		alerts   []alert
	}{
		{"checkout-28d", 0.142857, []alert{{13.44, 14, 14, true}, {5.6, 13.3333, 14, true}, {0.933333, 8.1871, 13.3333, true}}},
		{"checkout-30d", 0.133333, []alert{{14.4, 14, 14, false}, {6, 13.3333, 14, true}, {1, 8.1871, 13.3333, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r slo.Result
			for _, x := range rep.Results {
				if x.Name == tc.name {
					r = x
				}
			}
			require.Equal(t, 196, r.Events)
			require.Equal(t, 182.0, r.Good)
			require.Equal(t, 0.928571, r.Compliant)
			require.Equal(t, -6.142857, r.BudgetLeft)
			require.Equal(t, tc.coverage, r.Coverage)
			require.Equal(t, 96*time.Hour+10*time.Millisecond, r.Covered)
			require.Len(t, r.Alerts, 3)
			for i, want := range tc.alerts {
				a := r.Alerts[i]
				require.Equal(t, want, alert{a.Threshold, a.LongBurn, a.ShortBurn, a.Firing}, "alert %d", i)
			}
		})
	}
}

func TestAlertThresholdFollowsWindow(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		rule   slo.AlertRule
		window time.Duration
		want   float64
	}{
		{slo.WorkbookAlerts[0], 30 * day, 14.4},
		{slo.WorkbookAlerts[0], 28 * day, 13.44},
		{slo.WorkbookAlerts[1], 28 * day, 5.6},
		{slo.WorkbookAlerts[2], 7 * day, 0.1 * 7 * 24 / 72},
		{slo.AlertRule{Long: time.Hour, BurnRate: 10}, 28 * day, 10}, // a fixed rate stays as given
	} {
		require.InDelta(t, tc.want, tc.rule.Threshold(tc.window), 1e-9)
	}
	cfg, err := slo.Parse([]byte("slos:\n  - {name: a, operation: o, target: 0.9, window: 28d}\nalerts:\n  - {severity: page, long: 1h, short: 5m, budget: 2%}\n  - {severity: page, long: 6h, short: 30m, budget: 0.05}\n"), "f.yaml")
	require.NoError(t, err)
	require.InDelta(t, 13.44, cfg.Alerts[0].Threshold(28*day), 1e-9)
	require.InDelta(t, 14.4, cfg.Alerts[0].BurnRate, 1e-9) // its 30-day figure
	require.InDelta(t, 5.6, cfg.Alerts[1].Threshold(28*day), 1e-9)
}
