package triage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/analysis/triage"
)

// testdata/model/retries.jsonl, three failed GET /browse requests:
//
//  1. edge's first catalog call fails three levels down (the catalog's
//     database call), edge retries it and the retry succeeds; then edge's
//     own render step fails. The cause is render, not the deeper error the
//     retry recovered from.
//  2. the recommendations call fails deep inside recs (score); edge falls
//     back to catalog's popular items, which works; then the payment call
//     fails in payment's server span. The cause is payment.
//  3. both attempts of the catalog call fail: the last attempt's catalog
//     server span is the cause.
func TestErrorPropagation(t *testing.T) {
	traces := golden.Model(t, "retries.jsonl")
	want := []struct{ service, op string }{{"edge", "render"}, {"payment", "POST /charge"}, {"catalog", "GET /products"}}
	for i, tr := range traces {
		c := triage.Find(tr, tr.Root(), true)
		require.Equal(t, triage.KindError, c.Kind)
		require.Equal(t, want[i], struct{ service, op string }{c.Span.Service, c.Span.Name}, "trace %d", i+1)
	}
	require.Equal(t, "1600000000000305", triage.Find(traces[2], traces[2].Root(), true).Span.SpanID, "the last attempt")

	s := slo.SLO{Name: "browse", Service: "edge", Operation: "GET /browse", Target: 0.99, Window: 24 * time.Hour}
	rep := triage.Analyze(s, traces, slo.Latest(traces))
	require.Equal(t, 3, rep.BadEvents)
	var got []string
	for _, c := range rep.Culprits {
		got = append(got, c.Service+" "+c.Operation)
	}
	require.Equal(t, []string{"catalog GET /products", "edge render", "payment POST /charge"}, got)
}

// testdata/model/skew.jsonl: every GET /products takes 100 ms, 60 ms of it
// in catalog, whose clock runs 30 s fast. With a 50 ms latency objective
// all ten are bad; the cause is catalog's server span (60 ms of self-time),
// not the edge's client span, which only looks idle while catalog's span
// appears to start 30 s later.
func TestClockSkewBlamesCallee(t *testing.T) {
	traces := golden.Model(t, "skew.jsonl")
	s := slo.SLO{Name: "products", Service: "edge", Operation: "GET /products", Latency: 50 * time.Millisecond, Target: 0.99, Window: 24 * time.Hour}
	rep := triage.Analyze(s, traces, slo.Latest(traces))
	require.Equal(t, 10, rep.BadEvents)
	top := rep.Top()
	require.NotNil(t, top)
	require.Equal(t, []string{"catalog", "GET /products", "catalog-team", triage.KindLatency}, []string{top.Service, top.Operation, top.Team, top.Kind})
	require.Equal(t, 1.0, top.Share)
	require.Equal(t, 10, rep.Integrity.SkewShifted)
}

// testdata/model/broken.jsonl: the three checkouts with a root (traces 1, 2
// and 5) succeeded. Trace 5 also holds a failed orphan cart span that
// starts before the root, and trace 6 is only such a fragment: neither is a
// checkout event, so there is nothing to triage (by earliest root they were
// 2 bad events of 4, 50% compliance against a 90% target: BREACHING, and
// cart paged).
func TestOrphanIsNotAnEvent(t *testing.T) {
	traces := golden.Model(t, "broken.jsonl")
	s := slo.SLO{Name: "checkout", CriticalOperation: "checkout", Target: 0.9, Window: 24 * time.Hour}
	now := slo.Latest(traces)
	rep := triage.Analyze(s, traces, now)
	require.Zero(t, rep.BadEvents)
	require.Equal(t, 2, rep.Integrity.Orphans)
	res := slo.Evaluate(&slo.Config{SLOs: []slo.SLO{s}}, traces, now).Results[0]
	require.Equal(t, 3, res.Events)
	require.False(t, res.Breaching)
	for _, tr := range traces {
		if r := tr.Root(); r != nil {
			require.Equal(t, trace.KindServer, r.Kind)
		}
	}
}

// A parent cycle (each span the other's parent, both failed) ends: the
// walk is bounded by the trace's size.
func TestFindOnCycleEnds(t *testing.T) {
	mk := golden.Mk
	spans := []*trace.Span{
		mk("c", "1", "2", "a", "x", trace.KindServer, 0, 10, nil),
		mk("c", "2", "1", "b", "y", trace.KindServer, 1, 9, nil),
	}
	spans[0].Error, spans[1].Error = true, true
	tr := trace.Assemble(spans)[0]
	require.Nil(t, tr.Root())
	c := triage.Find(tr, tr.Span("1"), true)
	require.Contains(t, []string{"1", "2"}, c.Span.SpanID)
	require.Equal(t, triage.KindLatency, triage.Find(tr, tr.Span("1"), false).Kind)
}
