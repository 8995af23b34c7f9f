package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/flowtrace/flowtrace/analysis/coverage"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// TestMain lets the test binary play the services too: the demo re-executes
// its own binary with SHOP_ROLE set, and under `go test` that binary is
// this one.
func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		if err := runService(role); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

func TestShopEndToEnd(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	out := filepath.Join(t.TempDir(), "spans.jsonl")
	var stdout, stderr strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := run(ctx, options{duration: time.Second, rate: 40, out: out, forecast: "checkout=1200/s,browse=30000/s"}, &stdout, &stderr)
	require.NoError(t, err, "stderr:\n%s", stderr.String())
	text := stdout.String()
	for _, want := range []string{
		"One checkout, end to end",
		"payment process orders",
		"topic orders",
		"Golden signals",
		"checkout at 1200/s",
	} {
		require.Contains(t, text, want)
	}

	// The span file is what the CLI reads: every service is in it, and a
	// checkout trace crosses HTTP, gRPC and Kafka with one flow id.
	spans, err := source.ReadFile(out)
	require.NoError(t, err)
	services := map[string]bool{}
	for _, s := range spans {
		services[s.Service] = true
	}
	require.Equal(t, map[string]bool{"edge": true, "catalog": true, "cart": true, "order": true, "payment": true}, services)
	var crossing *trace.Trace
	for _, tr := range trace.Assemble(spans) {
		seen := map[string]bool{}
		for _, s := range tr.Spans {
			seen[s.Service] = true
		}
		if seen["edge"] && seen["payment"] {
			crossing = tr
			break
		}
	}
	require.NotNil(t, crossing, "a checkout reaches the payment consumer in the same trace")
	flow := ""
	for _, s := range crossing.Spans {
		id, _ := s.Attributes["flow_id"].(string)
		require.NotEmpty(t, id, "%s %s has no flow id", s.Service, s.Name)
		if flow == "" {
			flow = id
		}
		require.Equal(t, flow, id, "one flow id across the trace")
	}
}

// TestCoverageFindsUninstrumented runs the shop with catalog left
// uninstrumented: the coverage report names catalog and its team (from the
// ownership file: catalog emits no team attribute), and only the
// operations that call catalog go dark.
func TestCoverageFindsUninstrumented(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	out := filepath.Join(t.TempDir(), "spans.jsonl")
	var stdout, stderr strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := run(ctx, options{duration: time.Second, rate: 40, out: out, forecast: "checkout=1200/s", uninstrumented: "catalog"}, &stdout, &stderr)
	require.NoError(t, err, "stderr:\n%s", stderr.String())
	require.Contains(t, stdout.String(), "browse: 0 of 1 hops traced; catalog (team discovery) uninstrumented")

	spans, err := source.ReadFile(out)
	require.NoError(t, err)
	for _, s := range spans {
		require.NotEqual(t, "catalog", s.Service, "the uninstrumented catalog sent a span")
	}
	own, err := shopOwners()
	require.NoError(t, err)
	agg := coverage.New(own, nil, nil)
	for _, tr := range trace.Assemble(spans) {
		agg.Add(tr)
	}
	ops := map[string]*coverage.Operation{}
	for _, op := range agg.Report().Operations {
		ops[op.Name] = op
	}
	require.Contains(t, ops, "browse")
	require.Contains(t, ops, "checkout")
	browse := ops["browse"]
	require.Len(t, browse.Hops, 1)
	require.Equal(t, coverage.Uninstrumented, browse.Hops[0].Status)
	require.Equal(t, "catalog", browse.Hops[0].To)
	require.Equal(t, "discovery", browse.Hops[0].Team)
	require.Equal(t, "#discovery-oncall", browse.Hops[0].Channel)
	require.Equal(t, ops["checkout"].TotalHops, ops["checkout"].TracedHops, "checkout does not call catalog: %s", ops["checkout"].Summary)

	require.Error(t, run(ctx, options{duration: time.Second, uninstrumented: "nope"}, &stdout, &stderr))
}

// TestOwnersMatchProcesses keeps the ownership file and the teams the
// processes announce in their resource attributes the same.
func TestOwnersMatchProcesses(t *testing.T) {
	own, err := shopOwners()
	require.NoError(t, err)
	require.Equal(t, len(shopProcesses), own.Len())
	for _, p := range shopProcesses {
		o, ok := own.Lookup(p.name)
		require.True(t, ok, p.name)
		require.Equal(t, p.team, o.Team, p.name)
	}
}
