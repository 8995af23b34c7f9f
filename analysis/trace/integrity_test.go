package trace_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func byID(t *testing.T, traces []*trace.Trace, suffix string) *trace.Trace {
	t.Helper()
	for _, tr := range traces {
		if tr.ID[len(tr.ID)-len(suffix):] == suffix {
			return tr
		}
	}
	t.Fatalf("no trace ending in %s", suffix)
	return nil
}

// testdata/model/skew.jsonl: ten requests one second apart; catalog's clock
// runs 30 s fast, so its server span starts 29.93 s after the edge's client
// span ended. Corrected, it is centred in the client span: the client lasts
// 80 ms, the server 60 ms, so it starts 10 ms after the client (at +20 ms).
func TestCorrectSkewFile(t *testing.T) {
	traces := golden.Model(t, "skew.jsonl")
	fixed, in := trace.CorrectAll(traces)
	require.Equal(t, 10, in.SkewShifted)
	require.Zero(t, in.SkewBeyondMax)
	require.True(t, in.Clean() == false && in.Orphans == 0 && in.UnpairedClients == 0)
	for i, tr := range fixed {
		cat := tr.Spans[2]
		require.Equal(t, "catalog", cat.Service)
		base := golden.T0.Add(time.Duration(i) * time.Second)
		require.Equal(t, base.Add(20*time.Millisecond), cat.Start, "trace %d", i)
		require.Equal(t, base.Add(80*time.Millisecond), cat.End, "trace %d", i)
	}
	// The input is not changed.
	require.Equal(t, golden.T0.Add(30020*time.Millisecond), traces[0].Span(fixed[0].Spans[2].SpanID).Start)
	start, end := trace.Window(fixed)
	require.Equal(t, 9100*time.Millisecond, end.Sub(start))
}

func TestCorrectSkew(t *testing.T) {
	mk := golden.Mk
	spans := []*trace.Span{
		mk("t", "1", "", "edge", "POST", trace.KindServer, 0, 1000, nil),
		mk("t", "2", "1", "edge", "call cart", trace.KindClient, 100, 900, nil),
		// cart runs 30 s fast; its own client span moves with it
		mk("t", "3", "2", "cart", "Checkout", trace.KindServer, 30200, 30800, nil),
		mk("t", "4", "3", "cart", "call catalog", trace.KindClient, 30300, 30400, nil),
		// catalog's clock is right: it must not inherit cart's shift
		mk("t", "5", "4", "catalog", "GET", trace.KindServer, 310, 390, nil),
		mk("t", "6", "3", "cart", "send", trace.KindProducer, 30500, 30510, nil),
		// a consumer that ran after the producer ended is asynchronous, not skewed
		mk("t", "7", "6", "payment", "process", trace.KindConsumer, 2000, 2100, nil),
		// pay2 runs 20 min slow: beyond the maximum, left alone
		mk("t", "8", "1", "edge", "call pay2", trace.KindClient, 910, 990, nil),
		mk("t", "9", "8", "pay2", "Pay", trace.KindServer, 910-1200000, 980-1200000, nil),
	}
	tr, st := trace.CorrectSkew(trace.Assemble(spans)[0], 0)
	require.Equal(t, trace.SkewStats{Shifted: 3, BeyondMax: 1}, st)
	at := func(id string) (int, int) {
		s := tr.Span(id)
		return int(s.Start.Sub(golden.T0) / time.Millisecond), int(s.End.Sub(golden.T0) / time.Millisecond)
	}
	// cart: 600 ms in an 800 ms client span: starts at 100 + 100.
	for id, want := range map[string][2]int{"3": {200, 800}, "4": {300, 400}, "5": {310, 390}, "6": {500, 510}, "7": {2000, 2100}, "9": {910 - 1200000, 980 - 1200000}} {
		a, b := at(id)
		require.Equal(t, want, [2]int{a, b}, "span %s", id)
	}
	// A consumer that starts before its producer is moved to start with it.
	spans = []*trace.Span{
		mk("u", "1", "", "cart", "send", trace.KindProducer, 1000, 1010, nil),
		mk("u", "2", "1", "payment", "process", trace.KindConsumer, 990, 1100, nil),
	}
	tr, st = trace.CorrectSkew(trace.Assemble(spans)[0], time.Second)
	require.Equal(t, 1, st.Shifted)
	require.Equal(t, golden.T0.Add(1000*time.Millisecond), tr.Span("2").Start)
	// Nothing to correct: the same trace comes back.
	orig := trace.Assemble(spans[:1])[0]
	same, st := trace.CorrectSkew(orig, 0)
	require.Same(t, orig, same)
	require.Zero(t, st.Shifted)
}

// testdata/model/broken.jsonl, trace by trace:
//
//	1 complete checkout                        root edge
//	2 cart's server span missing (rpc.service) root edge, 1 unpaired client
//	3 client with a bare address (127.0.0.1)   root edge, 1 unpaired client
//	4 catalog calling itself                   root edge, nothing broken
//	5 orphan cart span that starts first       root edge (not the orphan), 1 orphan, 1 unpaired server
//	6 only the orphan fragment                 no root, 1 orphan, 1 unpaired server
func TestRootByStructureFile(t *testing.T) {
	traces := golden.Model(t, "broken.jsonl")
	require.Len(t, traces, 6)
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		r := byID(t, traces, id).Root()
		require.NotNil(t, r, "trace %s", id)
		require.Equal(t, "edge", r.Service, "trace %s", id)
	}
	t5 := byID(t, traces, "5")
	require.Equal(t, "cart", t5.Roots()[0].Service, "the orphan starts first")
	require.Len(t, t5.Orphans(), 1)
	require.Nil(t, byID(t, traces, "6").Root())

	_, in := trace.CorrectAll(traces)
	require.Equal(t, trace.Integrity{Traces: 6, Spans: 15, NoRoot: 1, Orphans: 2, UnpairedClients: 2, UnpairedServers: 2}, in)
	require.Equal(t, "1 traces without a root span, 2 orphan spans (parent missing), 2 client spans without a server side, "+
		"2 server spans without their client span in 6 traces", in.String())
}

func TestRootPrefersReceivingSpan(t *testing.T) {
	mk := golden.Mk
	tr := trace.Assemble([]*trace.Span{
		mk("t", "1", "", "edge", "background", trace.KindInternal, 0, 10, nil),
		mk("t", "2", "", "edge", "GET /", trace.KindServer, 5, 20, nil),
		mk("t", "3", "0000000000000000", "edge", "also root", trace.KindInternal, 1, 2, nil),
	})[0]
	require.Equal(t, "2", tr.Root().SpanID)
	require.Empty(t, tr.Orphans())
}

// testdata/model/peers.jsonl: calls without a server side from edge.
func TestPeerOfFile(t *testing.T) {
	traces := golden.Model(t, "peers.jsonl")
	known := trace.Services(traces)
	type peer struct {
		name     string
		system   bool
		unpaired bool
	}
	want := map[string]peer{
		"SELECT products": {"postgresql products", true, false},
		"GET":             {"redis 0", true, false},
		"POST /charges":   {"api.stripe.com", true, false},
		"GET /invoices":   {"legacy-billing", true, false},
		"GET /cart":       {"cart", true, true}, // cart is in the data: its server span is what is missing
		"GET /stock":      {"10.0.0.7", false, true},
		"SELECT carts":    {"postgresql carts", true, false},
	}
	got := map[string]peer{}
	for _, tr := range traces {
		for _, s := range tr.Spans {
			if s.Kind != trace.KindClient || len(trace.ServerSide(tr, s)) > 0 {
				continue
			}
			name, system := trace.PeerOf(s)
			got[s.Name] = peer{name, system, trace.IsUnpairedClient(tr, s, known)}
		}
	}
	require.Equal(t, want, got)
}

// Hostile structure: a parent cycle (no span without a parent) and a
// 100,000-span chain, every link crossing a process and skewed. Correct
// must end, count the cycle as a trace without a root and shift the chain
// without recursion.
func TestCorrectHostileStructure(t *testing.T) {
	mk := golden.Mk
	cycle := trace.Assemble([]*trace.Span{
		mk("c", "1", "2", "a", "x", trace.KindServer, 0, 10, nil),
		mk("c", "2", "1", "b", "y", trace.KindServer, 5, 20, nil),
	})
	_, in := trace.CorrectAll(cycle)
	require.Equal(t, trace.Integrity{Traces: 1, Spans: 2, NoRoot: 1}, in)

	const n = 20000
	spans := make([]*trace.Span, n)
	for i := range spans {
		parent := ""
		if i > 0 {
			parent = fmt.Sprint(i - 1)
		}
		svc := "even"
		if i%2 == 1 {
			svc = "odd"
		}
		// each span starts 1 ms before its parent and lasts as long
		spans[i] = mk("d", fmt.Sprint(i), parent, svc, "op", trace.KindServer, -i, 1000-i, nil)
	}
	_, in = trace.CorrectAll(trace.Assemble(spans))
	require.Equal(t, n-1, in.SkewShifted)
}

// The Step form gives the batch counts on broken.jsonl when the services
// are known up front, and sums shifted spans on skew.jsonl trace by trace.
func TestCorrectorStep(t *testing.T) {
	traces := golden.Model(t, "broken.jsonl")
	c := trace.Corrector{Known: trace.Services(traces)}
	var out []*trace.Trace
	emit := trace.Chain(func(tr *trace.Trace) { out = append(out, tr) }, c.Step)
	for _, tr := range traces {
		emit(tr)
	}
	_, want := trace.CorrectAll(traces)
	require.Equal(t, want, c.Integrity)
	require.Len(t, out, 6)

	var s trace.Corrector
	for _, tr := range golden.Model(t, "skew.jsonl") {
		fixed := s.Step(tr)
		require.Equal(t, fixed.Spans[0].Start.Add(20*time.Millisecond), fixed.Spans[2].Start)
	}
	require.Equal(t, 10, s.Integrity.SkewShifted)
}
