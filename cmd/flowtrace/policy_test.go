package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testdata/policy.jsonl, written by hand: three traces of the same shape,
// edge "GET /a" (server, 40 ms) -> edge "GET" (client, 30 ms) -> catalog
// "GET /items" (server, 20 ms), critical_operation browse:
//
//	trace a0: app traffic, sampling.probability 0.25, starts at T0
//	trace a1: app traffic, sampling.probability 0.25, starts at T0+9ms
//	trace a2: traffic_source load-test, probability 1, starts at T0
//
// so, with load-test traffic left out, the window is T0 .. T0+49ms and each
// operation has 2 spans standing for 2/0.25 = 8 calls.
var policyFile = filepath.Join("testdata", "policy.jsonl")

// Issue 16 item 8: one policy for every tool.
func TestPolicyGolden(t *testing.T) {
	t.Run("deps weights calls by 1/sampling.probability and leaves out load tests", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "deps", "--quiet", policyFile)
		require.Equal(t, exitOK, code, stderr)
		// 030e853: "http 3 calls" (observed spans, load test included).
		require.Equal(t, "flowchart LR\n"+
			"    svc_catalog[\"catalog\"]\n"+
			"    svc_edge[\"edge\"]\n"+
			"    user_user((\"user\"))\n"+
			"    svc_edge -->|\"http 8 calls, 0.0% err, p50 30ms, p99 30ms\"| svc_catalog\n"+
			"    user_user -->|\"http 8 calls, 0.0% err, p50 40ms, p99 40ms\"| svc_edge\n", stdout)
		code, stdout, _ = runCLI(t, "deps", "--quiet", "--include-load-test", policyFile)
		require.Equal(t, exitOK, code)
		require.Contains(t, stdout, "http 9 calls") // 8 + the load test's 1
	})
	t.Run("deps writes JSON", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "deps", "--quiet", "--format", "json", policyFile)
		require.Equal(t, exitOK, code, stderr) // 030e853: exit 2, unknown format
		var g struct {
			Nodes []struct{ Name, Kind string }
			Edges []struct {
				From, To      struct{ Name, Kind string }
				Type          string
				Spans         int     `json:"spans"`
				WeightedCalls float64 `json:"weighted_calls"`
				ErrorRatio    float64 `json:"error_ratio"`
				P50           int64   `json:"p50_ns"`
			}
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &g))
		require.Len(t, g.Nodes, 3) // catalog, edge and the user
		require.Len(t, g.Edges, 2)
		e := g.Edges[0]
		require.Equal(t, "edge", e.From.Name)
		require.Equal(t, "catalog", e.To.Name)
		require.Equal(t, "http", e.Type)
		require.Equal(t, 2, e.Spans)
		require.Equal(t, 8.0, e.WeightedCalls)
		require.Equal(t, int64(30e6), e.P50)
		require.Equal(t, "user", g.Edges[1].From.Name)
		require.Equal(t, 8.0, g.Edges[1].WeightedCalls)
	})
	t.Run("red leaves out load tests and warns about a 49ms window", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "red", "--quiet", "--format", "csv", policyFile)
		require.Equal(t, exitOK, code, stderr)
		// 8 weighted calls over 49 ms: 163.265306/s. 030e853: 3 spans,
		// weight 9, no warning.
		require.Equal(t, "service,operation,kind,spans,weighted_count,rate_per_second,weighted_errors,error_ratio,p50_ms,p90_ms,p99_ms\n"+
			"catalog,GET /items,server,2,8,163.265306,0,0,20.0,20.0,20.0\n"+
			"edge,GET /a,server,2,8,163.265306,0,0,40.0,40.0,40.0\n", stdout)
		require.Contains(t, stderr, "warning: rates are over a window of only 49ms, shorter than a minute")
		code, stdout, _ = runCLI(t, "red", "--quiet", "--format", "json", policyFile)
		require.Equal(t, exitOK, code)
		var rep struct {
			Input struct {
				Partial  bool
				Warnings []string
			}
			Window int64 `json:"window_ns"`
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
		require.Equal(t, int64(49e6), rep.Window)
		require.False(t, rep.Input.Partial)
		require.Len(t, rep.Input.Warnings, 1)
		require.Contains(t, rep.Input.Warnings[0], "49ms")
	})
	t.Run("estimate JSON has empty lists, not null", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "estimate", "--quiet", "--format", "json", "--forecast", "browse=10/s", policyFile)
		require.Equal(t, exitOK, code, stderr)
		require.NotContains(t, stdout, "null") // 030e853: "topics": null
		var est struct {
			Operations []struct {
				Traces   int
				Weighted float64 `json:"weighted_traces"`
				Fanout   []struct {
					Service   string
					PerSecond float64 `json:"expected_per_second"`
				}
				Topics []any
			}
			Topics []any
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &est))
		require.Len(t, est.Operations, 1)
		o := est.Operations[0]
		require.Equal(t, 2, o.Traces)
		require.Equal(t, 8.0, o.Weighted)
		require.NotNil(t, o.Topics)
		require.Empty(t, o.Topics)
		require.NotNil(t, est.Topics)
		require.Len(t, o.Fanout, 2)
		require.Equal(t, 10.0, o.Fanout[0].PerSecond) // one catalog call per browse
	})
	t.Run("every tool leaves out load tests by default", func(t *testing.T) {
		slos := filepath.Join("testdata", "policy-slos.yaml")
		for _, args := range [][]string{{"deps"}, {"red"}, {"estimate", "--forecast", "browse=10/s"}, {"slo", "--slos", slos}, {"triage", "--slos", slos}} {
			t.Run(args[0], func(t *testing.T) {
				code, _, stderr := runCLI(t, append(args, policyFile)...)
				require.Equal(t, exitOK, code, stderr)
				// 030e853: deps and red kept the load test ("9 spans in 3 traces").
				require.Contains(t, stderr, "9 spans in 2 traces (1 traces with traffic_source load-test left out)")
			})
		}
	})
}

// Issue 16 item 8: an empty file or JSON that is not OTLP trace data is an
// error, not "0 spans", exit 0 and a window starting in year 1.
func TestNoSpansIsAnError(t *testing.T) {
	for _, f := range []string{"empty.jsonl", "not-otlp.json"} {
		for _, cmd := range [][]string{{"deps"}, {"red"}, {"red", "--format", "json"}, {"estimate", "--forecast", "x=1/s"}, {"slo", "--slos", sloFile}, {"triage", "--slos", sloFile}} {
			t.Run(f+" "+strings.Join(cmd, " "), func(t *testing.T) {
				code, stdout, stderr := runCLI(t, append(cmd, filepath.Join("testdata", f))...)
				require.Equal(t, exitError, code, "stdout: %s", stdout)
				require.Empty(t, stdout)
				require.Contains(t, stderr, f+": no spans: the file is empty or not OTLP trace data")
			})
		}
	}
	// Only load-test traffic left after the policy: an error too, naming the
	// way to keep it.
	code, _, stderr := runCLI(t, "red", "--exclude-traffic", "app,load-test", policyFile, "--quiet")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "all 3 traces have traffic_source app or load-test, which is left out")
}

// The one policy is stated in every analysis command's --help.
func TestPolicyInHelp(t *testing.T) {
	for _, cmd := range []string{"deps", "red", "slo", "triage", "estimate"} {
		code, _, stderr := runCLI(t, cmd, "-h")
		require.Equal(t, exitOK, code)
		require.Contains(t, stderr, "Policy shared by deps, red, slo, triage and estimate", cmd)
		require.Contains(t, stderr, "1/sampling.probability", cmd)
		require.Contains(t, stderr, "--include-load-test", cmd)
	}
}

// The "input" member goes first into an object, into each object of an
// array (triage's output), and nowhere when there is nothing to say.
func TestWithInput(t *testing.T) {
	n := notes{Partial: true, Warnings: []string{"w <1>"}}
	for in, want := range map[string]string{
		`{"a": 1}`:     `{"input":{"partial":true,"warnings":["w \u003c1\u003e"]},"a":1}`,
		`{}`:           `{"input":{"partial":true,"warnings":["w \u003c1\u003e"]}}`,
		`[{"a":1},{}]`: `[{"input":{"partial":true,"warnings":["w \u003c1\u003e"]},"a":1},{"input":{"partial":true,"warnings":["w \u003c1\u003e"]}}]`,
		`[]`:           `[]`,
	} {
		got, err := withInput([]byte(in), n)
		require.NoError(t, err, in)
		require.Equal(t, want, string(got), in)
	}
	_, err := withInput([]byte(`"x"`), n)
	require.Error(t, err)
}

// Issue 16 item 7 through the CLI: an SLO matching nothing is an error
// (030e853: "compliance 100%, error budget left 100%: ok", exit 0 with
// --check), and each SLO states how much of its window the data covers.
func TestSLOSelectorsAndCoverage(t *testing.T) {
	dir := filepath.Join("..", "..", "analysis", "slo", "testdata")
	for _, args := range [][]string{{"slo", "--check"}, {"slo"}, {"slo", "--format", "json"}} {
		code, stdout, stderr := runCLI(t, append(args, "--quiet", "--slos", filepath.Join(dir, "checkout.yaml"), filepath.Join(dir, "checkout.jsonl"))...)
		require.Equal(t, exitError, code, "%v\n%s", args, stdout)
		require.Contains(t, stderr, "flowtrace slo: SLO browse-latency: no span in the data matches edge GET /products")
		require.Contains(t, stdout, "browse-latency") // the report is still written
	}
	// triage evaluates the same SLOs: it says so too.
	code, _, stderr := runCLI(t, "triage", "--quiet", "--slos", filepath.Join(dir, "checkout.yaml"), filepath.Join(dir, "checkout.jsonl"))
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "flowtrace triage: warning: SLO browse-latency: no span in the data matches")

	code, stdout, stderr := runCLI(t, "slo", "--quiet", "--slos", filepath.Join(dir, "burn.yaml"), filepath.Join(dir, "burn.jsonl"))
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stdout, "SLO checkout-28d (edge POST /checkout)\n"+
		"  target 99% over 28d: 196 events (weighted 196), good 182\n"+
		"  data covers 4d of the 28d window (14.286%): compliance and budget are for that part only\n"+
		"  compliance 92.857%, error budget left -614.286%: BREACHING\n"+
		"  page   burn >= 13.44    1h:    14.00    5m:    14.00  FIRING\n")
	require.Contains(t, stdout, "  page   burn >= 14.4     1h:    14.00    5m:    14.00  ok\n")
	code, _, _ = runCLI(t, "slo", "--quiet", "--check", "--slos", filepath.Join(dir, "burn.yaml"), filepath.Join(dir, "burn.jsonl"))
	require.Equal(t, exitAlerts, code)
}
