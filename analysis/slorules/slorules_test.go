package slorules_test

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/slorules"
)

func shopRules(t *testing.T) ([]byte, []string) {
	t.Helper()
	cfg, err := slo.LoadFile(golden.SLOFile())
	require.NoError(t, err)
	own, err := owners.Load(filepath.Join(golden.Testdata(), "owners.yaml"))
	require.NoError(t, err)
	f, warn, err := slorules.Generate(cfg, slorules.Options{Owners: own, OwnersFile: "owners.yaml"})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, f.WriteYAML(&b, "slos.yaml"))
	return b.Bytes(), warn
}

func TestGolden(t *testing.T) {
	b, warn := shopRules(t)
	golden.Check(t, "slo-rules.yaml", b)
	t.Log(warn)
}

func TestGenerateTable(t *testing.T) {
	cfg, err := slo.Parse([]byte(`slos:
  - {name: "a \"quoted\" slo", service: cart, operation: Checkout, target: 0.99, window: 30d}
alerts:
  - {severity: page, long: 1h30m, short: 90s, budget: 2%}
  - {severity: warn_2, long: 2d, short: 500ms, burn_rate: 2}
`), "f")
	require.NoError(t, err)
	f, warn, err := slorules.Generate(cfg, slorules.Options{})
	require.NoError(t, err)
	require.Equal(t, []string{"SLO a \"quoted\" slo: no team label (no ownership file; give --owners)"}, warn)
	rules := f.Groups[0].Rules
	var records []string
	for _, r := range rules {
		records = append(records, r.Record+r.Alert)
	}
	require.Equal(t, []string{
		"flowtrace_slo:error_ratio:rate500ms", "flowtrace_slo:error_ratio:rate1m30s", "flowtrace_slo:error_ratio:rate1h30m",
		"flowtrace_slo:error_ratio:rate2d", "FlowtraceSLOBurnPage", "FlowtraceSLOBurnWarn_2",
	}, records)
	// 2% of a 30-day budget over 1h30m: 9.6×; a fixed burn_rate stays.
	require.Contains(t, rules[4].Expr, `flowtrace_slo:error_ratio:rate1h30m{slo="a \"quoted\" slo"} >= 9.6 * (1 - 0.99)`)
	require.Contains(t, rules[5].Expr, `flowtrace_slo:error_ratio:rate500ms{slo="a \"quoted\" slo"} >= 2 * (1 - 0.99)`)
	require.Contains(t, rules[4].Annotations["triage"], "--from cart")
	require.Equal(t, map[string]string{"slo": `a "quoted" slo`, "severity": "page"}, rules[4].Labels)

	for _, tc := range []struct{ in, want string }{
		{"slos:\n  - {name: a, service: s, operation: o, target: 0.9, window: 1d}\nalerts: []\n", "alerts list is empty"},
		{"slos:\n  - {name: a, service: s, operation: o, target: 0.9, window: 1d}\nalerts:\n  - {severity: Page!, long: 1h, short: 5m, burn_rate: 2}\n", `severity "Page!"`},
	} {
		cfg, err := slo.Parse([]byte(tc.in), "f")
		require.NoError(t, err)
		_, _, err = slorules.Generate(cfg, slorules.Options{})
		require.ErrorContains(t, err, tc.want)
	}
}

// The threshold in the rules is the one analysis/slo evaluates with: an
// SLO file's rules and `flowtrace slo` agree for any window.
func TestThresholdsAreTheEvaluators(t *testing.T) {
	for _, window := range []string{"7d", "28d", "30d", "90d"} {
		cfg, err := slo.Parse([]byte("slos:\n  - {name: a, critical_operation: c, owner: edge, target: 0.999, window: "+window+"}\n"), "f")
		require.NoError(t, err)
		own, err := owners.Parse([]byte("services: {edge: {team: e}}"), "o")
		require.NoError(t, err)
		f, warn, err := slorules.Generate(cfg, slorules.Options{Owners: own})
		require.NoError(t, err)
		require.Empty(t, warn)
		var exprs string
		for _, r := range f.Groups[0].Rules {
			exprs += r.Expr
		}
		for _, a := range cfg.Alerts {
			th := strconv.FormatFloat(a.Threshold(cfg.SLOs[0].Window), 'g', 12, 64)
			require.Contains(t, exprs, ">= "+th+" * (1 - 0.999)", "window %s, %s", window, a.Severity)
		}
	}
}
