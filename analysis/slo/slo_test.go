package slo_test

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func TestGolden(t *testing.T) {
	cfg, err := slo.LoadFile(golden.SLOFile())
	if err != nil {
		t.Fatal(err)
	}
	traces := trace.ExcludeTraffic(golden.Shop(t), "load-test")
	rep := slo.Evaluate(cfg, traces, slo.Latest(traces))
	var txt, js bytes.Buffer
	rep.WriteText(&txt)
	rep.WriteJSON(&js)
	golden.Check(t, "slo.txt", txt.Bytes())
	golden.Check(t, "slo.json", js.Bytes())
}

// The SRE workbook's example: a 99.9% SLO with 1.44% of requests failing
// for an hour burns the budget at 14.4, which pages (2% of a 30-day budget
// spent in one hour).
func TestBurnRateWorkbook(t *testing.T) {
	if got := slo.BurnRate(1.44, 100, 0.999); math.Abs(got-14.4) > 1e-9 {
		t.Errorf("BurnRate = %v, want 14.4", got)
	}
	for _, r := range slo.WorkbookAlerts {
		budget := r.BurnRate * float64(r.Long) / float64(30*24*time.Hour)
		t.Logf("%s %s/%s at %g spends %.0f%% of a 30-day budget", r.Severity, r.Long, r.Short, r.BurnRate, 100*budget)
	}
	cfg := &slo.Config{
		SLOs:   []slo.SLO{{Name: "api", Service: "api", Operation: "GET /", Target: 0.999, Window: 30 * 24 * time.Hour}},
		Alerts: slo.WorkbookAlerts,
	}
	// events builds one good and one bad event per minute for an hour,
	// weighted so that errPct of the weight fails (via sampling weights),
	// leaving the last cleanMin minutes without errors.
	events := func(errPct float64, cleanMin int) []*trace.Trace {
		var spans []*trace.Span
		for m := range 60 {
			end := 60*60*1000 - m*60*1000
			good := golden.Mk(fmt.Sprint("g", m), "1", "", "api", "GET /", trace.KindServer, end-10, end, map[string]any{"sampling.probability": 1 / (100 - errPct)})
			spans = append(spans, good)
			if m >= cleanMin {
				bad := golden.Mk(fmt.Sprint("b", m), "1", "", "api", "GET /", trace.KindServer, end-10, end, map[string]any{"sampling.probability": 1 / errPct})
				bad.Error = true
				spans = append(spans, bad)
			}
		}
		return trace.Assemble(spans)
	}
	now := golden.T0.Add(time.Hour)
	firing := func(r slo.Result) string {
		var s []string
		for _, a := range r.Alerts {
			s = append(s, fmt.Sprintf("%s/%s=%v", a.Long, a.Short, a.Firing))
		}
		return strings.Join(s, " ")
	}

	r := slo.Evaluate(cfg, events(1.44, 0), now).Results[0]
	if r.Alerts[0].LongBurn != 14.4 || r.Alerts[0].ShortBurn != 14.4 {
		t.Errorf("burn rates %v/%v, want 14.4", r.Alerts[0].LongBurn, r.Alerts[0].ShortBurn)
	}
	if got := firing(r); got != "1h0m0s/5m0s=true 6h0m0s/30m0s=true 72h0m0s/6h0m0s=true" {
		t.Errorf("1.44%%: %s", got)
	}
	if math.Abs(r.Compliant-0.9856) > 1e-9 || math.Abs(r.BudgetLeft-(1-14.4)) > 1e-6 || !r.Breaching {
		t.Errorf("compliance %v budget %v", r.Compliant, r.BudgetLeft)
	}
	// 1% errors: burn 10, below the fast page, above the slow one.
	if got := firing(slo.Evaluate(cfg, events(1, 0), now).Results[0]); got != "1h0m0s/5m0s=false 6h0m0s/30m0s=true 72h0m0s/6h0m0s=true" {
		t.Errorf("1%%: %s", got)
	}
	// The errors stopped 10 minutes ago: the 5m window resets the fast
	// page although the hour still burns at about 14.4 * 50/60.
	if got := firing(slo.Evaluate(cfg, events(1.44, 10), now).Results[0]); got != "1h0m0s/5m0s=false 6h0m0s/30m0s=true 72h0m0s/6h0m0s=true" {
		t.Errorf("recovered: %s", got)
	}
	// No events: nothing fires, the budget is untouched.
	r = slo.Evaluate(cfg, nil, now).Results[0]
	if r.Firing() || r.BudgetLeft != 1 || r.Compliant != 1 {
		t.Errorf("no events: %+v", r)
	}
}

func TestLatencyEvents(t *testing.T) {
	s := slo.SLO{Name: "x", CriticalOperation: "checkout", Latency: 50 * time.Millisecond, Target: 0.9, Window: time.Hour}
	co := map[string]any{"critical_operation": "checkout"}
	traces := trace.Assemble([]*trace.Span{
		golden.Mk("a", "1", "", "edge", "POST", trace.KindServer, 0, 40, co),
		golden.Mk("a", "2", "1", "cart", "x", trace.KindServer, 0, 90, co), // not an event: not the root
		golden.Mk("b", "1", "", "edge", "POST", trace.KindServer, 0, 60, co),
		golden.Mk("c", "1", "", "edge", "GET", trace.KindServer, 0, 60, nil),
	})
	evs := slo.Events(s, traces)
	if len(evs) != 2 || evs[0].Bad || !evs[1].Bad {
		t.Errorf("events: %+v", evs)
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "empty SLO file",
		"slos: 3":                             "f.yaml:1: slos: want a list",
		"foo: 1":                              `f.yaml:1: unknown key "foo"`,
		"slos:\n  - name: a\n    target: 2\n": `f.yaml:3: slos[0].target: "2": must be between 0 and 1`,
		"slos:\n  - name: a\n    critical_operation: c\n    target: 0.9\n    window: 3x\n":                                                            `f.yaml:5: slos[0].window: "3x"`,
		"slos:\n  - name: a\n    critical_operation: c\n    target: 0.9\n":                                                                            "f.yaml:2: slos[0].window: required",
		"slos:\n  - name: a\n    target: 0.9\n    window: 1d\n":                                                                                       "set critical_operation, or operation",
		"slos:\n  - name: a\n    operation: o\n    target: 0.9\n    window: 1d\n    latnecy: 1s\n":                                                    `f.yaml:6: slos[0]: unknown key "latnecy"`,
		"slos:\n  - {name: a, operation: o, target: 0.9, window: 1d}\nalerts:\n  - {severity: page, long: 5m, short: 1h, burn_rate: 2}\n":             "alerts[0]: short window longer",
		"slos:\n  - {name: a, operation: o, target: 0.9, window: 1d}\n  - {name: a, operation: o, target: 0.9, window: 1d}\n":                         `slos[1].name: duplicate "a"`,
		"slos:\n  - {name: a, operation: o, kind: sever, target: 0.9, window: 1d}\n":                                                                  `slos[0].kind: "sever": want server, consumer`,
		"slos:\n  - {name: a, critical_operation: c, kind: server, target: 0.9, window: 1d}\n":                                                        "critical_operation excludes service, operation and kind",
		"slos:\n  - {name: a, operation: o, target: 0.9, window: 1d}\nalerts:\n  - {severity: page, long: 1h, short: 5m, burn_rate: 2, budget: 2%}\n": "one of burn_rate or budget",
		"slos:\n  - {name: a, operation: o, target: 0.9, window: 1d}\nalerts:\n  - {severity: page, long: 1h, short: 5m, budget: 200%}\n":             "must be a fraction of the budget",
	} {
		_, err := slo.Parse([]byte(in), "f.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
	}
	cfg, err := slo.Parse([]byte("slos:\n  - {name: a, service: s, operation: o, latency: 250ms, target: 0.99, window: 4w}\nalerts:\n  - {severity: page, long: 1h, short: 5m, burn_rate: 13.44}\n"), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.SLOs[0]; s.Window != 28*24*time.Hour || s.Latency != 250*time.Millisecond || len(cfg.Alerts) != 1 || cfg.Alerts[0].BurnRate != 13.44 {
		t.Errorf("parsed %+v %+v", cfg.SLOs, cfg.Alerts)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"28d": 28 * 24 * time.Hour, "1w2d": 9 * 24 * time.Hour, "1d12h": 36 * time.Hour, "5m": 5 * time.Minute} {
		if got, err := slo.ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "2d4w", "-1d", "x"} {
		if _, err := slo.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q): want error", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("slos:\n  - {name: a, critical_operation: c, target: 0.999, window: 28d}\n"))
	f.Add([]byte("slos:\n  - name: b\n    service: s\n    operation: o\n    latency: 1d2h\n    target: 0.5\n    window: 1w\nalerts: []\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := slo.Parse(b, "fuzz")
		if err == nil {
			_ = slo.Evaluate(cfg, nil, time.Time{})
		}
	})
}
