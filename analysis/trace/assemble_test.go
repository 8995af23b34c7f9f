package trace_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// spansOf builds traces of n spans each: trace "tK" has spans "tK-0" (the
// root) .. "tK-(n-1)".
func spansOf(traces, n int) [][]*trace.Span {
	out := make([][]*trace.Span, traces)
	for k := range out {
		id := fmt.Sprintf("t%d", k)
		for i := 0; i < n; i++ {
			parent := ""
			if i > 0 {
				parent = id + "-0"
			}
			out[k] = append(out[k], golden.Mk(id, fmt.Sprintf("%s-%d", id, i), parent, "svc", "op", trace.KindServer, k*10+i, k*10+i+5, nil))
		}
	}
	return out
}

// roundRobin interleaves the traces' spans: span i of every trace, then
// span i+1 of every trace.
func roundRobin(ts [][]*trace.Span) []*trace.Span {
	var out []*trace.Span
	for i := 0; ; i++ {
		added := false
		for _, t := range ts {
			if i < len(t) {
				out = append(out, t[i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

func assemble(spans []*trace.Span, opts ...trace.AssembleOption) ([]*trace.Trace, trace.AssemblyStats) {
	var got []*trace.Trace
	a := trace.NewAssembler(func(t *trace.Trace) { got = append(got, t) }, opts...)
	a.AddAll(spans)
	a.Close()
	return got, a.Stats()
}

// shape describes traces as "id:span,span,..." sorted, for comparisons.
func shape(ts []*trace.Trace) string {
	var out []string
	for _, t := range ts {
		var ids []string
		for _, s := range t.Spans {
			ids = append(ids, s.SpanID)
		}
		out = append(out, t.ID+":"+strings.Join(ids, ","))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestAssemblerEqualsAssembleWithinWindow(t *testing.T) {
	ts := spansOf(20, 5)
	for name, spans := range map[string][]*trace.Span{
		"contiguous":  slices.Concat(ts...),
		"interleaved": roundRobin(ts), // 20 traces open at once: well inside a window of 100
	} {
		got, st := assemble(spans, trace.WithWindow(100))
		require.Equal(t, shape(trace.Assemble(spans)), shape(got), name)
		require.Equal(t, trace.AssemblyStats{Spans: 100, Traces: 20, MaxHeld: st.MaxHeld}, st, name)
	}
}

// A trace is complete once window spans have passed without one of it;
// contiguous traces are emitted one window after their last span, so no
// more than about a window of spans is held.
func TestAssemblerWindowBoundsHeldSpans(t *testing.T) {
	spans := slices.Concat(spansOf(100, 5)...)
	got, st := assemble(spans, trace.WithWindow(10))
	require.Len(t, got, 100)
	require.Zero(t, st.Split)
	require.LessOrEqual(t, st.MaxHeld, 10+5)
	require.Equal(t, "t0", got[0].ID, "traces are emitted in the order they complete")
}

// Traces interleaved beyond the window are split: each piece is emitted as
// a trace of its own and counted.
func TestAssemblerSplitsBeyondWindow(t *testing.T) {
	ts := spansOf(8, 3)
	spans := roundRobin(ts) // spans of one trace are 8 apart
	got, st := assemble(spans, trace.WithWindow(4))
	require.Equal(t, 24, st.Traces)
	require.Equal(t, 16, st.Split, "every trace comes in 3 pieces: 2 extra pieces each")
	require.Len(t, got, 24)
	for _, tr := range got {
		require.Len(t, tr.Spans, 1)
	}
	// A window of 8 is enough: 7 spans of other traces come between two of
	// one trace. 7 is not.
	_, st = assemble(spans, trace.WithWindow(7), trace.WithMaxHeld(100))
	require.Equal(t, 16, st.Split)
	got, st = assemble(spans, trace.WithWindow(8), trace.WithMaxHeld(100))
	require.Zero(t, st.Split)
	require.Equal(t, shape(trace.Assemble(spans)), shape(got))
}

// Traces that stay open (each gets a span within every window) cannot hold
// memory without bound: past MaxHeld the least recently extended trace is
// closed.
func TestAssemblerMaxHeld(t *testing.T) {
	ts := spansOf(4, 50)
	spans := roundRobin(ts) // 4 traces, each extended every 4 spans
	got, st := assemble(spans, trace.WithWindow(1000), trace.WithMaxHeld(40))
	require.LessOrEqual(t, st.MaxHeld, 41)
	require.Positive(t, st.Forced)
	require.Equal(t, st.Forced, st.Split, "each forced close of a live trace leads to one more piece")
	n := 0
	for _, tr := range got {
		n += len(tr.Spans)
	}
	require.Equal(t, 200, n, "no span is lost")
}

func TestAssemblerIdle(t *testing.T) {
	now := golden.T0
	clock := func() time.Time { return now }
	var got []string
	a := trace.NewAssembler(func(t *trace.Trace) { got = append(got, t.ID) }, trace.WithIdle(time.Second, clock))
	ts := spansOf(2, 2)
	a.Add(ts[0][0])
	now = now.Add(600 * time.Millisecond)
	a.Add(ts[1][0])
	a.Expire()
	require.Empty(t, got)
	now = now.Add(500 * time.Millisecond) // t0 idle 1.1s, t1 0.5s
	a.Expire()
	require.Equal(t, []string{"t0"}, got)
	a.Add(ts[1][1])
	now = now.Add(2 * time.Second)
	a.Expire()
	require.Equal(t, []string{"t0", "t1"}, got)
	require.Equal(t, 2, a.Stats().Idle)
	require.Zero(t, a.Held())
	a.Close()
	require.Len(t, got, 2)
}

func TestChain(t *testing.T) {
	ts := trace.Assemble([]*trace.Span{
		golden.Mk("a", "1", "", "edge", "x", trace.KindServer, 0, 1, map[string]any{"traffic_source": "load-test"}),
		golden.Mk("b", "2", "", "edge", "x", trace.KindServer, 0, 1, nil),
	})
	var seen []string
	mark := func(t *trace.Trace) *trace.Trace { seen = append(seen, "step:"+t.ID); return t }
	emit := trace.Chain(func(t *trace.Trace) { seen = append(seen, "emit:"+t.ID) },
		trace.ExcludeTrafficStep("load-test"), nil, mark)
	for _, tr := range ts {
		emit(tr)
	}
	require.Equal(t, []string{"step:b", "emit:b"}, seen)
	require.Nil(t, trace.ExcludeTrafficStep())
}

func BenchmarkAssembler(b *testing.B) {
	spans := roundRobin(spansOf(1000, 10))
	b.ReportAllocs()
	for b.Loop() {
		a := trace.NewAssembler(func(*trace.Trace) {}, trace.WithWindow(2000))
		a.AddAll(spans)
		a.Close()
	}
}
