package promtriage_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/promtriage"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/internal/promtest"
)

// The shop's recorded traces, through the live core (what the connector
// and flowtrace serve export), backfilled into a real Prometheus: triage
// --prometheus walks edge -> catalog and blames catalog, the service file
// triage blames for the failed checkouts, with the ownership file's team.
func TestRealPrometheus(t *testing.T) {
	spans, err := source.ReadFile(golden.ShopFile())
	require.NoError(t, err)
	core := live.New(live.Config{})
	core.Add(spans)
	core.Flush()
	var expo bytes.Buffer
	require.NoError(t, core.Snapshot().WriteText(&expo))
	samples, err := livetest.Parse(&expo)
	require.NoError(t, err)
	require.NotEmpty(t, samples.Family(live.MetricRequestsFailed))

	end := time.Now().Add(-30 * time.Minute).Truncate(time.Minute)
	start := end.Add(-10 * time.Minute)
	url := promtest.Start(t, promtest.OpenMetrics(samples, []string{live.MetricRequests, live.MetricRequestsFailed}, start, end))

	own, err := owners.Load(filepath.Join(golden.Testdata(), "owners.yaml"))
	require.NoError(t, err)
	c, err := promtriage.NewClient(url, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := promtriage.Fetch(ctx, c, end, 10*time.Minute)
	require.NoError(t, err)
	require.Zero(t, g.Skipped)
	var userEdge promtriage.Edge
	for _, e := range g.Edges {
		if e.Client == "user" && e.Server == "edge" {
			userEdge = e
		}
	}
	want := samples.Sum(live.MetricRequestsFailed, "client", "user", "server", "edge")
	require.Positive(t, want)
	require.InDelta(t, want, userEdge.Failed, want*0.01, "increase over the backfilled window")

	fs, err := promtriage.Blame(g, "", own)
	require.NoError(t, err)
	require.Len(t, fs, 1)
	f := fs[0]
	var path []string
	for _, h := range f.Path {
		path = append(path, h.Service)
	}
	require.Equal(t, []string{"edge", "catalog"}, path)
	require.Equal(t, []string{"catalog", "discovery", "#discovery-oncall"}, []string{f.Cause, f.Team, f.Channel})

	fs, err = promtriage.Blame(g, "cart", own)
	require.NoError(t, err)
	require.Equal(t, "catalog", fs[0].Cause)

	_, err = promtriage.Blame(g, "nosuch", own)
	require.ErrorContains(t, err, `service "nosuch" has no service-graph series`)

	// A query Prometheus rejects is an error naming the query.
	_, _, err = c.Query(ctx, "sum(", end)
	require.ErrorContains(t, err, `"bad_data"`)
}
