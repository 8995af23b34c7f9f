package edge

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

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
			l := NewLimiter(tc.perSecond, tc.maxOps, clk.now)
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
		l := NewLimiter(ps, 0, nil)
		require.Nil(t, l, "%v", ps)
		for range 1000 {
			require.True(t, l.Allow("checkout"))
		}
		require.Zero(t, l.Operations())
	}
}

func TestLimiterBoundedTable(t *testing.T) {
	t.Parallel()
	l := NewLimiter(1, 10, nil)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("op-%d", i))
	}
	require.Equal(t, 10, l.Operations())
}

func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(50, 4, clk.now)
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

// TestLimiterSharesTheBucket: the edge's cap decides exactly as
// internal/tokenbucket's limiter does, the bucket the sampler's rate limit
// uses too.
func TestLimiterSharesTheBucket(t *testing.T) {
	t.Parallel()
	steps := []time.Duration{0, 0, 300 * time.Millisecond, -time.Minute, 0, time.Minute, 2 * time.Second, 0, time.Hour, 0}
	for _, rate := range []float64{0.25, 1, 3.5} {
		clk := &fakeClock{t: time.Unix(1000, 0)}
		l := NewLimiter(rate, 2, clk.now)
		ref := tokenbucket.NewLimiter(tokenbucket.PerSecond(rate), 2, clk.now)
		for i, d := range steps {
			clk.add(d)
			for _, op := range []string{"a", "b", "c"} {
				require.Equal(t, ref.Allow(op), l.Allow(op), "rate %g step %d op %s", rate, i, op)
			}
		}
	}
}
