package instr

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newLimit is the cap SetCriticalSampling builds, with a clock and a table
// bound (0: MaxCriticalOperations).
func newLimit(perSecond float64, maxOps int, now func() time.Time) *tokenbucket.Limiter {
	if maxOps <= 0 {
		maxOps = MaxCriticalOperations
	}
	return tokenbucket.NewLimiter(tokenbucket.PerSecond(perSecond), maxOps, now)
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	type step struct {
		after time.Duration // clock advance before the call
		op    string
		want  bool
	}
	for _, tc := range []struct {
		name      string
		perSecond float64
		maxOps    int
		steps     []step
	}{
		{"burst of one second then refused", 2, 0, []step{
			{0, "checkout", true}, {0, "checkout", true}, {0, "checkout", false},
		}},
		{"refills at the rate", 2, 0, []step{
			{0, "checkout", true}, {0, "checkout", true}, {0, "checkout", false},
			{250 * time.Millisecond, "checkout", false}, // half a token
			{250 * time.Millisecond, "checkout", true},  // one token
			{0, "checkout", false},
		}},
		{"refill is capped at one second", 2, 0, []step{
			{0, "a", true}, {time.Hour, "a", true}, {0, "a", true}, {0, "a", false},
		}},
		{"operations have separate buckets", 1, 0, []step{
			{0, "checkout", true}, {0, "checkout", false},
			{0, "add-to-cart", true}, {0, "add-to-cart", false},
		}},
		{"below one per second still allows one", 0.5, 0, []step{
			{0, "a", true}, {time.Second, "a", false}, {time.Second, "a", true},
		}},
		{"names beyond the table share the overflow bucket", 1, 2, []step{
			{0, "a", true}, {0, "b", true}, {0, "c", true}, {0, "d", false}, {0, "a", false},
		}},
		{"clock going back takes no tokens away nor adds any", 1, 0, []step{
			{0, "a", true}, {-time.Minute, "a", false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Unix(1000, 0)}
			l := newLimit(tc.perSecond, tc.maxOps, clk.now)
			for i, s := range tc.steps {
				clk.add(s.after)
				require.Equal(t, s.want, l.Allow(s.op), "step %d (%+v)", i, s)
			}
		})
	}
}

func TestLimiterNoCap(t *testing.T) {
	t.Parallel()
	for _, ps := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		var e Engine
		e.SetCriticalSampling(ps)
		l := e.Limit
		require.Nil(t, l, "%v", ps)
		for range 1000 {
			require.True(t, l.Allow("checkout"))
		}
		require.Zero(t, l.Keys())
	}
}

func TestLimiterBoundedTable(t *testing.T) {
	t.Parallel()
	var e Engine
	e.SetCriticalSampling(1)
	for i := range 1000 {
		e.Limit.Allow(fmt.Sprintf("op-%d", i))
	}
	require.Equal(t, MaxCriticalOperations, e.Limit.Keys())
}

func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := newLimit(50, 4, clk.now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				if l.Allow("checkout") {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
				l.Allow(fmt.Sprintf("op-%d", g))
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 50, allowed) // the clock stood still: one second's worth
}

// TestSetIgnoresNil: the rule of every transport's options that take a
// function, a tracer or a logger.
func TestSetIgnoresNil(t *testing.T) {
	t.Parallel()
	rule := func() string { return "a" }
	f := rule
	Set(&f, nil)
	require.NotNil(t, f, "a nil function keeps the earlier one")
	Set(&f, func() string { return "b" })
	require.Equal(t, "b", f())

	var tr opentracing.Tracer = opentracing.NoopTracer{}
	Set(&tr, nil)
	require.Equal(t, opentracing.NoopTracer{}, tr, "a nil interface keeps the earlier one")
	mt := mocktracer.New()
	Set[opentracing.Tracer](&tr, mt)
	require.Same(t, mt, tr)

	l := slog.Default()
	Set(&l, nil)
	require.Same(t, slog.Default(), l, "a nil pointer keeps the earlier one")
}

func TestBind(t *testing.T) {
	t.Parallel()
	require.Nil(t, Bind[string](nil, "x"), "no rule stays no rule")
	require.Equal(t, "op:x", Bind(func(s string) string { return "op:" + s }, "x")())
}

type testOption func(*[]string)

func TestConfigure(t *testing.T) {
	t.Parallel()
	var got []string
	add := func(s string) *testOption { o := testOption(func(l *[]string) { *l = append(*l, s) }); return &o }
	Apply([]*testOption{add("a"), nil, add("b")}, func(o *testOption) { (*o)(&got) })
	require.Equal(t, []string{"a", "b"}, got, "nil options are skipped, the others run in order")

	def := func(string) string { return "default" }
	own := func(string) string { return "own" }
	for _, tc := range []struct {
		public bool
		rule   func(string) string
		want   string // "" : no rule
	}{{false, nil, ""}, {true, nil, "default"}, {true, own, "own"}, {false, own, "own"}} {
		e := Engine{Public: tc.public}
		traffic := tc.rule
		Configure(&e, []*testOption(nil), func(*testOption) {}, &traffic, def)
		if tc.want == "" {
			require.Nil(t, traffic)
			continue
		}
		require.Equal(t, tc.want, traffic(""), "%+v", tc)
	}
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	var c Cache[*string]
	builds := 0
	build := func(k string) *string { builds++; v := "v:" + k; return &v }
	first := c.Get("a", build)
	require.Same(t, first, c.Get("a", build), "a cached name is built once")
	for i := range 2 * MaxCached {
		require.Equal(t, fmt.Sprintf("v:k%d", i), *c.Get(fmt.Sprintf("k%d", i), build))
	}
	require.EqualValues(t, MaxCached, c.n.Load(), "no more than MaxCached names are kept")
	builds = 0
	require.Equal(t, "v:beyond", *c.Get("beyond", build))
	require.Equal(t, "v:beyond", *c.Get("beyond", build))
	require.Equal(t, 2, builds, "past the bound a name is built on each use")
}
