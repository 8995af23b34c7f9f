package trace_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func TestSpanIndexBounded(t *testing.T) {
	x := trace.NewSpanIndex(3)
	require.True(t, x.Bounded())
	id := func(i int) (string, string) { return fmt.Sprintf("%032x", i), fmt.Sprintf("%016x", i) }
	for i := 1; i <= 5; i++ {
		tid, sid := id(i)
		x.Add(golden.Mk(tid, sid, "", "svc", "op", trace.KindProducer, 0, 1, map[string]any{"messaging.system": "kafka"}))
	}
	// Jaeger-style short ids and any other strings are indexed too.
	x.Add(golden.Mk("abc", "Z1", "", "odd", "op", trace.KindClient, 0, 1, map[string]any{"rpc.system": "grpc"}))
	for i := 1; i <= 5; i++ {
		tid, sid := id(i)
		_, ok := x.Lookup(trace.Link{TraceID: tid, SpanID: sid})
		require.Equal(t, i >= 4, ok, "span %d: only the 3 latest spans are kept", i)
	}
	tg, ok := x.Lookup(trace.Link{TraceID: "abc", SpanID: "Z1"})
	require.True(t, ok)
	require.Equal(t, "odd", tg.Span.Service)
	require.Equal(t, "grpc", tg.Span.Str("rpc.system"))
	tid, sid := id(5)
	tg, _ = x.Lookup(trace.Link{TraceID: tid, SpanID: sid})
	require.Equal(t, trace.KindProducer, tg.Span.Kind)
	require.Equal(t, "kafka", tg.Span.Str("messaging.system"))
	_, ok = x.Lookup(trace.Link{TraceID: "0" + tid[1:], SpanID: "1" + sid[1:]})
	require.False(t, ok)

	all := trace.NewSpanIndex(0)
	require.False(t, all.Bounded())
	var nilIndex *trace.SpanIndex
	_, ok = nilIndex.Lookup(trace.Link{TraceID: tid, SpanID: sid})
	require.False(t, ok)
}

// StreamCorrector counts what CorrectAll counts, though whether a client span is
// unpaired depends on services seen only later.
func TestCorrectorEqualsCorrectAll(t *testing.T) {
	for _, name := range []string{"broken.jsonl", "peers.jsonl", "skew.jsonl", "links.jsonl", "retries.jsonl"} {
		traces := golden.Model(t, name)
		_, want := trace.CorrectAll(traces)
		c := trace.NewStreamCorrector(0)
		for i := len(traces) - 1; i >= 0; i-- { // reverse: services appear late
			c.Correct(traces[i])
		}
		require.Equal(t, want, c.Integrity(), name)
	}
}
