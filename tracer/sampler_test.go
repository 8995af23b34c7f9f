package tracer

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/propagation"
)

func TestTraceIDRatio(t *testing.T) {
	for _, ratio := range []float64{0, 0.1, 0.5, 1} {
		s := TraceIDRatio(ratio)
		n, hits := 20000, 0
		for i := 0; i < n; i++ {
			id := newTraceID()
			d := s.ShouldSample(SamplingParameters{TraceID: id})
			require.Equal(t, d, s.ShouldSample(SamplingParameters{TraceID: id}), "decision depends only on the trace id")
			require.Equal(t, ratio, d.Probability)
			if d.Sampled {
				hits++
			}
		}
		require.InDelta(t, ratio, float64(hits)/float64(n), 0.02)
	}
	require.Equal(t, "traceidratio{1}", TraceIDRatio(7).Description(), "ratios above 1 are clamped")
	require.Equal(t, "traceidratio{0}", TraceIDRatio(math.NaN()).Description())
}

func TestParentBased(t *testing.T) {
	s := ParentBased(AlwaysOff())
	sampledParent := propagation.SpanContext{TraceID: newTraceID(), SpanID: newSpanID(), Flags: propagation.FlagSampled}
	unsampledParent := sampledParent
	unsampledParent.Flags = 0
	require.True(t, s.ShouldSample(SamplingParameters{Parent: sampledParent}).Sampled)
	require.False(t, s.ShouldSample(SamplingParameters{Parent: unsampledParent}).Sampled)
	require.False(t, s.ShouldSample(SamplingParameters{}).Sampled)
	require.True(t, ParentBased(nil).ShouldSample(SamplingParameters{}).Sampled)
}

func TestRateLimited(t *testing.T) {
	now := time.Unix(1000, 0)
	s := RateLimited(10, 2, AlwaysOn()).(*rateLimited)
	s.now = func() time.Time { return now }
	count := func(name string, n int) (hits int, last SamplingDecision) {
		for i := 0; i < n; i++ {
			last = s.ShouldSample(SamplingParameters{Name: name})
			if last.Sampled {
				hits++
			}
		}
		return hits, last
	}
	hits, last := count("checkout", 100)
	require.Equal(t, 10, hits, "a full bucket allows a burst of one second's budget")
	require.InDelta(t, 0.1, last.Probability, 0.001)
	hits, _ = count("browse", 5)
	require.Equal(t, 5, hits, "each operation has its own budget")
	now = now.Add(500 * time.Millisecond)
	hits, _ = count("checkout", 100)
	require.Equal(t, 5, hits, "tokens refill at the configured rate")
	now = now.Add(time.Second)
	hits, last = count("checkout", 1)
	require.Equal(t, 1, hits)
	require.InDelta(t, 15.0/200, last.Probability, 0.001, "the previous window's acceptance ratio")

	// Names beyond the table bound share one overflow budget.
	for i := 0; i < 100; i++ {
		count(fmt.Sprintf("op-%d", i), 1)
	}
	require.LessOrEqual(t, s.table.Len(), 2)
}

func TestRateLimitedDisabled(t *testing.T) {
	require.Equal(t, "always_on", RateLimited(0, 0, nil).Description())
	require.Equal(t, "always_off", RateLimited(math.Inf(1), 0, AlwaysOff()).Description())
}

func TestRateLimitedSlowRatesAndClockSteps(t *testing.T) {
	now := time.Unix(1000, 0)
	s := RateLimited(0.5, 10, AlwaysOn()).(*rateLimited)
	s.now = func() time.Time { return now }
	sample := func() bool { return s.ShouldSample(SamplingParameters{Name: "nightly-report"}).Sampled }
	require.True(t, sample(), "a rate below 1/s still lets the first trace through")
	require.False(t, sample())
	now = now.Add(time.Second)
	require.False(t, sample(), "half a token after one second")
	now = now.Add(time.Second)
	require.True(t, sample(), "a whole token after two")

	now = now.Add(-time.Hour)
	require.False(t, sample(), "a clock stepping back adds no tokens")
	now = now.Add(time.Hour + 2*time.Second)
	require.True(t, sample(), "nor takes any away")
}

// TestRateLimitedSharesTheBucket: the sampler's rate limit decides exactly
// as internal/tokenbucket's limiter does (the bucket the edge's
// forced-sampling cap uses too), over a run of clock steps that include
// steps back and rates below one a second.
func TestRateLimitedSharesTheBucket(t *testing.T) {
	t.Parallel()
	steps := []time.Duration{0, 0, 300 * time.Millisecond, -time.Minute, 0, time.Minute, 2 * time.Second, 0, 10 * time.Millisecond, time.Hour, 0, 0, 0}
	for _, rate := range []float64{0.25, 1, 3.5} {
		now := time.Unix(1000, 0)
		clk := func() time.Time { return now }
		s := RateLimited(rate, 2, AlwaysOn()).(*rateLimited)
		s.now = clk
		l := tokenbucket.NewLimiter(tokenbucket.PerSecond(rate), 2, clk)
		for i, d := range steps {
			now = now.Add(d)
			for _, op := range []string{"a", "b", "c", "d"} {
				want := l.Allow(op)
				require.Equal(t, want, s.ShouldSample(SamplingParameters{Name: op}).Sampled, "rate %g step %d op %s", rate, i, op)
			}
		}
	}
}
