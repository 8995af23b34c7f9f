package stats

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var qs = []float64{0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1}

func lognormal(r *rand.Rand, n int) []Sample {
	out := make([]Sample, n)
	for i := range out {
		// Around 5ms, with a long tail; weights 1, 2 or 4 as sampling gives.
		d := time.Duration(math.Exp(r.NormFloat64()*1.2) * 5e6)
		out[i] = Sample{Value: d, Weight: float64(int(1) << r.IntN(3))}
	}
	return out
}

func TestSketchExactBelowThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	samples := lognormal(r, ExactSamples)
	var s Sketch
	for _, x := range samples {
		s.Add(x.Value, x.Weight)
	}
	require.True(t, s.Exact())
	require.Equal(t, Quantiles(samples, qs...), s.Quantiles(qs...))
}

func TestSketchRelativeError(t *testing.T) {
	for _, n := range []int{ExactSamples + 1, 20_000, 200_000} {
		r := rand.New(rand.NewPCG(uint64(n), 7))
		samples := lognormal(r, n)
		var s Sketch
		for _, x := range samples {
			s.Add(x.Value, x.Weight)
		}
		require.False(t, s.Exact())
		require.Equal(t, n, s.Count())
		want := Quantiles(samples, qs...)
		got := s.Quantiles(qs...)
		for i := range qs {
			require.InDelta(t, float64(want[i]), float64(got[i]), RelativeAccuracy*float64(want[i])+1,
				"n=%d q=%g: got %s want %s", n, qs[i], got[i], want[i])
		}
		// The maximum is exact: it is clamped to the largest sample.
		require.Equal(t, want[len(qs)-1], got[len(qs)-1])
	}
}

func TestSketchMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sizes := range [][2]int{{10, 20}, {ExactSamples, 5}, {5, 3 * ExactSamples}, {3 * ExactSamples, 7}, {4000, 5000}} {
		a, b := lognormal(r, sizes[0]), lognormal(r, sizes[1])
		var sa, sb, all Sketch
		for _, x := range a {
			sa.Add(x.Value, x.Weight)
			all.Add(x.Value, x.Weight)
		}
		for _, x := range b {
			sb.Add(x.Value, x.Weight)
			all.Add(x.Value, x.Weight)
		}
		sa.Merge(&sb)
		require.Equal(t, all.Count(), sa.Count(), "sizes %v", sizes)
		require.Equal(t, all.Exact(), sa.Exact(), "sizes %v", sizes)
		want := Quantiles(append(a, b...), qs...)
		got := sa.Quantiles(qs...)
		for i := range qs {
			require.InDelta(t, float64(want[i]), float64(got[i]), RelativeAccuracy*float64(want[i])+1, "sizes %v q=%g", sizes, qs[i])
		}
	}
	var empty Sketch
	empty.Merge(nil)
	empty.Merge(&Sketch{})
	require.Equal(t, []time.Duration{0, 0}, empty.Quantiles(0.5, 0.99))
}

func TestSketchHostileValues(t *testing.T) {
	var s Sketch
	s.Add(-time.Second, 1)         // counts as 0
	s.Add(time.Second, math.NaN()) // ignored
	s.Add(time.Second, -1)         // ignored
	s.Add(time.Second, math.Inf(1))
	for i := 0; i < 3*ExactSamples; i++ {
		// From 1ns to the largest Duration: the bins stay bounded.
		s.Add(time.Duration(1)<<(i%63), 1)
	}
	s.Add(math.MaxInt64, 1)
	require.Equal(t, 3*ExactSamples+2, s.Count())
	got := s.Quantiles(0, 1)
	require.Equal(t, time.Duration(0), got[0])
	require.Equal(t, time.Duration(math.MaxInt64), got[1])
}

func BenchmarkSketchAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	samples := lognormal(r, 4096)
	var s Sketch
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		x := samples[i%len(samples)]
		s.Add(x.Value, x.Weight)
	}
}
