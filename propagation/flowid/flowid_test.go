package flowid_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValid(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"a", "abc-DEF_0.9~+/=:", strings.Repeat("x", 128), flowid.New()} {
		require.True(t, flowid.Valid(s), s)
	}
	for _, s := range []string{"", strings.Repeat("x", 129), "a b", "a\nb", "a\r", "\x1b[31mred", "a\x00", "a\x7f", "ü", "\xff", "a,b", "a;b", "a\"b", "<script>"} {
		require.False(t, flowid.Valid(s), "%q", s)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 10000 {
		id := flowid.New()
		require.Len(t, id, 22)
		require.True(t, flowid.Valid(id))
		require.False(t, seen[id])
		seen[id] = true
	}
}

// TestNewConcurrent: goroutines drawing ids at once never get the same
// one (ids are handed out from per-P chunks).
func TestNewConcurrent(t *testing.T) {
	t.Parallel()
	const goroutines, each = 8, 2000
	ids := make([][]string, goroutines)
	var wg sync.WaitGroup
	for g := range ids {
		wg.Go(func() {
			for range each {
				ids[g] = append(ids[g], flowid.New())
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, l := range ids {
		for _, id := range l {
			require.True(t, flowid.Valid(id) && len(id) == 22, id)
			require.False(t, seen[id])
			seen[id] = true
		}
	}
}

func TestFromTraceID(t *testing.T) {
	t.Parallel()
	id := flowid.FromTraceID(propagation.TraceID{0xab, 1})
	require.Equal(t, "ab010000000000000000000000000000", id)
	require.True(t, flowid.Valid(id))
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ok-id", "ok-id"},
		{"a\nb", `a\x0ab`},
		{"a\r\nInjected: yes", `a\x0d\x0aInjected: yes`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"back\\slash", `back\\slash`},
		{"ü\xff", `\xc3\xbc\xff`},
		{strings.Repeat("a", 64), strings.Repeat("a", 61) + "..."},
		{strings.Repeat("\n", 100), strings.Repeat(`\x0a`, 15) + "..."},
	}
	for _, tt := range tests {
		got := flowid.Sanitize(tt.in)
		require.Equal(t, tt.want, got)
		require.LessOrEqual(t, len(got), flowid.SanitizeLen)
		require.True(t, utf8.ValidString(got))
		for i := 0; i < len(got); i++ {
			require.True(t, got[i] >= 0x20 && got[i] < 0x7f, "%q", got)
		}
	}
	require.Equal(t, strings.Repeat("a", 60), flowid.Sanitize(strings.Repeat("a", 60)))
}

func TestPropagatorExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   []string
		baggage  string
		want     string // flow_id after Extract; "" = none
		invalid  uint64
		mismatch uint64
	}{
		{"valid", []string{"abc"}, "", "abc", 0, 0},
		{"absent", nil, "", "", 0, 0},
		{"empty", []string{""}, "", "", 1, 0},
		{"too long", []string{strings.Repeat("x", 129)}, "", "", 1, 0},
		{"bad chars", []string{"a b"}, "", "", 1, 0},
		{"newline", []string{"abc\nX-Admin: 1"}, "", "", 1, 0},
		{"ANSI", []string{"\x1b[2J"}, "", "", 1, 0},
		{"NUL", []string{"a\x00"}, "", "", 1, 0},
		{"invalid UTF-8", []string{"\xff"}, "", "", 1, 0},
		{"1 MiB", []string{strings.Repeat("a", 1<<20)}, "", "", 1, 0},
		{"twice", []string{"a", "a"}, "", "", 1, 0},
		{"header wins over baggage", []string{"from-header"}, "flow_id=from-baggage", "from-header", 0, 1},
		{"header equals baggage", []string{"same"}, "flow_id=same", "same", 0, 0},
		{"invalid header keeps valid baggage", []string{"a b"}, "flow_id=good", "good", 1, 0},
		{"invalid baggage dropped", nil, "flow_id=%0Abad", "", 1, 0},
		{"baggage only", nil, "flow_id=good", "good", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := propagation.HeaderCarrier{}
			h["X-Flow-Id"] = append(h["X-Flow-Id"], tt.header...)
			if tt.baggage != "" {
				h.Set("baggage", tt.baggage)
			}
			t.Parallel()
			sel := propagation.Select([]string{"tracecontext", "baggage", "flowid"})
			s := sel.Propagator.Extract(h, propagation.State{})
			got, _ := s.Baggage.Get(flowid.BaggageKey)
			require.Equal(t, tt.want, got)
			require.Equal(t, propagation.FlowIDStats{Invalid: tt.invalid, Mismatches: tt.mismatch}, sel.FlowIDStats(),
				"the selection's own counters: no delta needed")
		})
	}
}

func TestPropagatorCarrierKeys(t *testing.T) {
	t.Parallel()
	// gRPC metadata carriers lower-case keys; MapCarrier stands in for one.
	s := flowid.Propagator{}.Extract(propagation.MapCarrier{"x-flow-id": "abc"}, propagation.State{})
	got, _ := s.Baggage.Get(flowid.BaggageKey)
	require.Equal(t, "abc", got)

	c := propagation.MapCarrier{}
	flowid.Propagator{}.Inject(s, c)
	require.Equal(t, propagation.MapCarrier{"X-Flow-ID": "abc"}, c)

	// An invalid baggage value is never injected.
	c = propagation.MapCarrier{}
	flowid.Propagator{}.Inject(propagation.State{Baggage: propagation.NewBaggage(propagation.Member{Key: "flow_id", Value: "a\nb"})}, c)
	require.Empty(t, c)
}

func TestContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	require.Equal(t, "", flowid.FromContext(ctx))
	require.Equal(t, "x", flowid.FromContext(flowid.ContextWith(ctx, "x")))

	tr := mocktracer.New()
	sp := tr.StartSpan("op")
	sp.SetBaggageItem(flowid.BaggageKey, "from-span")
	sctx := opentracing.ContextWithSpan(ctx, sp)
	require.Equal(t, "from-span", flowid.FromContext(sctx))
	require.Equal(t, "ctx", flowid.FromContext(flowid.ContextWith(sctx, "ctx")), "the context value wins")
}

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = flowid.New()
	}
}

func BenchmarkValid(b *testing.B) {
	id := flowid.New()
	for b.Loop() {
		_ = flowid.Valid(id)
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add("ok")
	f.Add("\x1b[31m\r\n\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := flowid.Sanitize(s)
		require.LessOrEqual(t, len(got), flowid.SanitizeLen)
		for i := 0; i < len(got); i++ {
			require.True(t, got[i] >= 0x20 && got[i] < 0x7f)
		}
		if flowid.Valid(s) && len(s) < flowid.SanitizeLen-3 {
			require.Equal(t, s, got)
		}
	})
}
