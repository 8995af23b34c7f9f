package slorules_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/promtriage"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/slorules"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/internal/promtest"
)

func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtest.LookTool(t, "promtool"), args...).CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// The rule file written for the shop's SLOs is valid for Prometheus.
func TestPromtoolCheckRules(t *testing.T) {
	b, _ := shopRules(t)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	out := runPromtool(t, "check", "rules", path)
	require.Contains(t, out, "SUCCESS: 21 rules found")
}

const testSLOs = `slos:
  - name: checkout
    critical_operation: checkout
    owner: edge
    target: 0.999
    window: 28d
`

const testOwners = "services:\n  edge: {team: edge-team, channel: '#edge-oncall'}\n"

// alertCase is one promtool alert_rule_test.
type alertCase struct {
	at     time.Duration
	alert  string // slorules.AlertName(severity)
	firing bool
}

// scenario is one promtool test group: the two SLI counters as series
// notation (one sample a minute) and the alerts expected at given times.
type scenario struct {
	name         string
	events, good string
	cases        []alertCase
}

// TestPromtoolRules runs the generated rules in promtool's rule unit tests
// for SLO checkout (99.9% over 28 days: page at 13.44× over 1h/5m or 5.6×
// over 6h/30m, ticket at 0.93× over 3d/6h), at 1,000 events a minute.
func TestPromtoolRules(t *testing.T) {
	page, ticket := slorules.AlertName("page"), slorules.AlertName("ticket")
	scenarios := []scenario{
		{
			// Every event fails from minute 180 on: the page fires within
			// minutes, and the ticket with it; before the outage nothing does.
			name:   "outage",
			events: "0+1000x250",
			good:   "0+1000x180 180000x70",
			cases: []alertCase{
				{179 * time.Minute, page, false}, {179 * time.Minute, ticket, false},
				{185 * time.Minute, page, true}, {185 * time.Minute, ticket, true},
				{250 * time.Minute, page, true},
			},
		},
		{
			// Every event fails for two minutes (180 to 182), then all is well:
			// it pages while it lasts (2,000 bad events are 5% of the 28-day
			// budget); 45 minutes later both short windows (5m, 30m) are clean
			// and the page has stopped, while the ticket for the budget spent
			// stays open.
			name:   "short spike that has ended",
			events: "0+1000x230",
			good:   "0+1000x180 180000x1 181000+1000x47",
			cases: []alertCase{
				{182 * time.Minute, page, true},
				{225 * time.Minute, page, false}, {225 * time.Minute, ticket, true},
			},
		},
		{
			// A slow burn: 0.2% of events fail (twice the budget's pace): a
			// ticket, never a page.
			name:   "slow burn tickets",
			events: "0+1000x90",
			good:   "0+998x90",
			cases:  []alertCase{{90 * time.Minute, ticket, true}, {90 * time.Minute, page, false}},
		},
		{
			// 0.05% of events fail: half the budget's pace, no alert at all.
			name:   "within budget",
			events: "0+1000x90",
			good:   "0+999.5x90",
			cases:  []alertCase{{90 * time.Minute, ticket, false}, {90 * time.Minute, page, false}},
		},
		{
			// Every event fails from the start, before any good event
			// created the good counter: still a page.
			name:   "no good counter yet",
			events: "0+1000x60",
			cases:  []alertCase{{30 * time.Minute, page, true}},
		},
		{
			// No traffic at all: a NaN ratio, no page.
			name:  "silence",
			cases: []alertCase{{30 * time.Minute, page, false}, {30 * time.Minute, ticket, false}},
		},
	}

	cfg, err := slo.Parse([]byte(testSLOs), "slos.yaml")
	require.NoError(t, err)
	own, err := owners.Parse([]byte(testOwners), "owners.yaml")
	require.NoError(t, err)
	f, warn, err := slorules.Generate(cfg, slorules.Options{Owners: own, OwnersFile: "owners.yaml"})
	require.NoError(t, err)
	require.Empty(t, warn)
	var rules bytes.Buffer
	require.NoError(t, f.WriteYAML(&rules, "slos.yaml"))

	// The expected annotations are the generated ones as promtool expands
	// them ($externalURL is empty there).
	annotations := map[string]map[string]string{}
	for _, r := range f.Groups[0].Rules {
		if r.Alert != "" {
			a := map[string]string{}
			for k, v := range r.Annotations {
				a[k] = strings.ReplaceAll(v, "{{ $externalURL }}", "")
			}
			annotations[r.Alert] = a
		}
	}
	require.Contains(t, annotations[page]["triage"], "flowtrace triage --prometheus  --from edge --owners owners.yaml")

	var tests []any
	for _, sc := range scenarios {
		var series []any
		if sc.events != "" {
			series = append(series, map[string]string{"series": `flowtrace_slo_events_total{slo="checkout",instance="a"}`, "values": sc.events})
		}
		if sc.good != "" {
			series = append(series, map[string]string{"series": `flowtrace_slo_good_events_total{slo="checkout",instance="a"}`, "values": sc.good})
		}
		if series == nil { // promtool wants some input: a series of another SLO
			series = append(series, map[string]string{"series": `flowtrace_slo_events_total{slo="other"}`, "values": "0+1x60"})
		}
		var cases []any
		for _, c := range sc.cases {
			exp := []any{}
			if c.firing {
				sev := strings.ToLower(strings.TrimPrefix(c.alert, slorules.AlertPrefix))
				exp = append(exp, map[string]any{
					"exp_labels":      map[string]string{"severity": sev, "slo": "checkout", "team": "edge-team", "channel": "#edge-oncall"},
					"exp_annotations": annotations[c.alert],
				})
			}
			cases = append(cases, map[string]any{"eval_time": c.at.String(), "alertname": c.alert, "exp_alerts": exp})
		}
		tests = append(tests, map[string]any{"name": sc.name, "interval": "1m", "input_series": series, "alert_rule_test": cases})
	}
	doc, err := yaml.Marshal(map[string]any{"rule_files": []string{"rules.yaml"}, "evaluation_interval": "1m", "tests": tests})
	require.NoError(t, err)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), rules.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules_test.yaml"), doc, 0o644))
	runPromtool(t, "check", "rules", filepath.Join(dir, "rules.yaml"))
	out := runPromtool(t, "test", "rules", filepath.Join(dir, "rules_test.yaml"))
	require.Contains(t, out, "SUCCESS")
}

// The recording rules' expressions over the series the live core (the
// connector's and flowtrace serve's) writes for the shop, in a real
// Prometheus: each SLO's error ratio is the core's (total-good)/total.
func TestRulesReadLiveSeries(t *testing.T) {
	cfg, err := slo.LoadFile(golden.SLOFile())
	require.NoError(t, err)
	spans, err := source.ReadFile(golden.ShopFile())
	require.NoError(t, err)
	core := live.New(live.Config{SLOs: cfg})
	core.Add(spans)
	core.Flush()
	var expo bytes.Buffer
	require.NoError(t, core.Snapshot().WriteText(&expo))
	samples, err := livetest.Parse(&expo)
	require.NoError(t, err)

	end := time.Now().Add(-time.Hour).Truncate(time.Minute)
	url := promtest.Start(t, promtest.OpenMetrics(samples, []string{slorules.MetricEvents, slorules.MetricGoodEvents}, end.Add(-30*time.Minute), end))
	c, err := promtriage.NewClient(url, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()
	f, _, err := slorules.Generate(cfg, slorules.Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, s := range cfg.SLOs {
		rec := f.Groups[i].Rules[0]
		require.Equal(t, slorules.RecordPrefix+"5m", rec.Record)
		total := samples.Value(slorules.MetricEvents, "slo", s.Name)
		good := samples.Value(slorules.MetricGoodEvents, "slo", s.Name)
		require.Positive(t, total, s.Name)
		got, _, err := c.Query(ctx, rec.Expr, end)
		require.NoError(t, err)
		require.Len(t, got, 1, s.Name)
		require.Equal(t, s.Name, got[0].Labels["slo"])
		require.InDelta(t, (total-good)/total, got[0].Value, 1e-9, s.Name)
	}
}

// The shop's rule file, loaded by a real Prometheus through rule_files as
// docs/alerting.md says: every rule is evaluated without error.
func TestPrometheusLoadsRules(t *testing.T) {
	b, _ := shopRules(t)
	end := time.Now().Add(-time.Hour).Truncate(time.Minute)
	om := "flowtrace_slo_events_total{slo=\"checkout-availability\"} 0 " + strconv.FormatInt(end.Unix(), 10) + "\n# EOF\n"
	url := promtest.StartWithRules(t, om, b)
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	type rule struct {
		Name, Health, LastError, Type string
		LastEvaluation                time.Time
	}
	var last []rule
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url + "/api/v1/rules")
		require.NoError(t, err)
		var r struct {
			Data struct {
				Groups []struct{ Rules []rule }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		require.NoError(t, err)
		last = last[:0]
		evaluated := 0
		for _, g := range r.Data.Groups {
			for _, x := range g.Rules {
				last = append(last, x)
				if !x.LastEvaluation.IsZero() && x.LastEvaluation.Year() > 2000 {
					evaluated++
				}
			}
		}
		if len(last) == 21 && evaluated == 21 {
			for _, x := range last {
				require.Equal(t, "ok", x.Health, "%s: %s", x.Name, x.LastError)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("rules not all evaluated within 20s: %+v", last)
}
