package tokenbucket

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	type step struct {
		after time.Duration // clock advance before the call
		key   string
		want  bool
	}
	for _, tc := range []struct {
		name      string
		perSecond float64
		maxKeys   int
		steps     []step
	}{
		{"full on first use, one second's worth", 3, 10, []step{
			{0, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false},
		}},
		{"refills at the rate", 2, 10, []step{
			{0, "a", true}, {0, "a", true}, {0, "a", false},
			{250 * time.Millisecond, "a", false}, {250 * time.Millisecond, "a", true}, {0, "a", false},
		}},
		{"refill capped at the burst", 2, 10, []step{
			{0, "a", true}, {24 * time.Hour, "a", true}, {0, "a", true}, {0, "a", false},
		}},
		{"below one per second still allows one", 0.5, 10, []step{
			{0, "a", true}, {0, "a", false}, {time.Second, "a", false}, {time.Second, "a", true},
		}},
		{"a tenth per second", 0.1, 10, []step{
			{0, "a", true}, {9 * time.Second, "a", false}, {time.Second, "a", true},
		}},
		{"clock stepping back adds no tokens", 1, 10, []step{
			{0, "a", true}, {-time.Hour, "a", false},
		}},
		{"nor takes any away: refill resumes past the latest time seen", 1, 10, []step{
			{0, "a", true}, {-time.Hour, "a", false}, {time.Hour, "a", false}, {time.Second, "a", true},
		}},
		{"a full bucket stays full across a step back", 2, 10, []step{
			{0, "a", true}, {time.Hour, "b", true}, {-time.Hour, "b", true}, {0, "b", false},
		}},
		{"keys have their own buckets", 1, 10, []step{
			{0, "a", true}, {0, "a", false}, {0, "b", true}, {0, "b", false},
		}},
		{"keys beyond the bound share the overflow bucket", 1, 2, []step{
			{0, "a", true}, {0, "b", true}, {0, "c", true}, {0, "d", false}, {0, "a", false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: time.Unix(1000, 0)}
			l := NewLimiter(PerSecond(tc.perSecond), tc.maxKeys, clk.now)
			for i, s := range tc.steps {
				clk.add(s.after)
				require.Equal(t, s.want, l.Allow(s.key), "step %d (%+v)", i, s)
			}
		})
	}
}

func TestLimiterNoLimit(t *testing.T) {
	t.Parallel()
	for _, ps := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		l := NewLimiter(PerSecond(ps), 10, nil)
		require.Nil(t, l, "%v", ps)
		for range 100 {
			require.True(t, l.Allow("a"))
		}
		require.Zero(t, l.Keys())
	}
	require.Nil(t, NewLimiter(Rate{PerSecond: 1, Burst: 0.5}, 1, nil), "a burst below one lets nothing through")
}

func TestTableBounded(t *testing.T) {
	t.Parallel()
	tb := NewTable[int](10)
	for i := range 1000 {
		tb.Get(fmt.Sprintf("op-%d", i))
	}
	require.Equal(t, 10, tb.Len())
	require.Same(t, tb.Get("op-999"), tb.Get("op-998"), "overflow keys share one entry")
	require.NotSame(t, tb.Get("op-0"), tb.Get("op-1"))
	require.Equal(t, int64(1), NewTable[int](0).max, "at least one key")
}

func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(PerSecond(50), 4, clk.now)
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
	require.Equal(t, 50, allowed, "the clock stood still: one second's worth")
}
