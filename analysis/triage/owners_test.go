package triage_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/analysis/triage"
)

// The shop's ownership file moves catalog to team discovery while its
// spans still say catalog-team: the file wins, the channel comes with it,
// and the disagreement is in the report.
func TestGoldenOwners(t *testing.T) {
	cfg, err := slo.LoadFile(golden.SLOFile())
	require.NoError(t, err)
	own, err := owners.Load(filepath.Join(golden.Testdata(), "owners.yaml"))
	require.NoError(t, err)
	traces := trace.ExcludeTraffic(golden.Shop(t), "load-test")
	now := slo.Latest(traces)
	var reps []*triage.Report
	for _, s := range cfg.SLOs {
		reps = append(reps, triage.Analyze(s, traces, now))
	}
	triage.AssignOwners(reps, own)
	var txt, js bytes.Buffer
	require.NoError(t, triage.WriteText(&txt, reps))
	require.NoError(t, triage.WriteJSON(&js, reps))
	golden.Check(t, "triage-owners.txt", txt.Bytes())
	golden.Check(t, "triage-owners.json", js.Bytes())
	top := reps[0].Top()
	require.NotNil(t, top)
	require.Equal(t, []string{"catalog", "discovery", "#discovery-oncall", owners.SourceFile, "catalog-team"},
		[]string{top.Service, top.Team, top.Channel, top.TeamSource, top.AttributeTeam})
}

// Rows that differed only by the span attribute's team (one build tagged
// its spans, another did not) become one row once the file names the team;
// a service the file does not list keeps its attribute.
func TestAssignOwnersMerges(t *testing.T) {
	own, err := owners.Parse([]byte("services:\n  cart: {team: carts, channel: '#carts'}\n"), "f")
	require.NoError(t, err)
	rep := &triage.Report{Culprits: []triage.Culprit{
		{Service: "cart", Operation: "Checkout", Team: "old-carts", Kind: triage.KindError, Events: 3, Weighted: 3, Share: 0.5, Examples: []string{"a", "b"}},
		{Service: "pay", Operation: "Charge", Team: "payments", Kind: triage.KindError, Events: 2, Weighted: 2, Share: 0.25, Examples: []string{"d"}},
		{Service: "cart", Operation: "Checkout", Team: "", Kind: triage.KindError, Events: 1, Weighted: 2, Share: 0.25, Examples: []string{"c", "e"}},
	}}
	triage.AssignOwners([]*triage.Report{rep}, own)
	require.Equal(t, []triage.Culprit{
		{Service: "cart", Operation: "Checkout", Team: "carts", Channel: "#carts", TeamSource: owners.SourceFile, AttributeTeam: "old-carts",
			Kind: triage.KindError, Events: 4, Weighted: 5, Share: 0.75, Examples: []string{"a", "b", "c"}},
		{Service: "pay", Operation: "Charge", Team: "payments", TeamSource: owners.SourceAttribute, Kind: triage.KindError, Events: 2, Weighted: 2, Share: 0.25, Examples: []string{"d"}},
	}, rep.Culprits)

	before := []triage.Culprit{{Service: "x", Team: "t"}}
	rep = &triage.Report{Culprits: before}
	triage.AssignOwners([]*triage.Report{rep}, nil)
	require.Equal(t, []triage.Culprit{{Service: "x", Team: "t"}}, rep.Culprits, "no file: attributes as they were")
}
