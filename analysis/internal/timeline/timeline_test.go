package timeline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sum(l *Timeline[int], from, to time.Time) int {
	n := 0
	l.Each(from, to, func(v int) { n += v })
	return n
}

func TestExactBelowBound(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := New(10, 4, func(d *int, s int) { *d += s })
	for i := 0; i < 10; i++ {
		l.Add(t0.Add(time.Duration(i)*time.Millisecond), 1)
	}
	require.Zero(t, l.Resolution())
	// (t0+2ms, t0+5ms]: 3, 4, 5 exactly.
	require.Equal(t, 3, sum(l, t0.Add(2*time.Millisecond), t0.Add(5*time.Millisecond)))
	var order []int
	l2 := New(0, 0, func(d *int, s int) { *d += s })
	for _, v := range []int{3, 1, 2} {
		l2.Add(t0.Add(time.Duration(v)*time.Second), v)
	}
	l2.Each(t0, t0.Add(time.Hour), func(v int) { order = append(order, v) })
	require.Equal(t, []int{3, 1, 2}, order, "exact values come in the order added")
}

func TestBucketsPastBound(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	l := New(100, 64, func(d *int, s int) { *d += s })
	// One value every 10 s for 10,000 s: 1000 values.
	for i := 0; i < 1000; i++ {
		l.Add(t0.Add(time.Duration(i)*10*time.Second), 1)
	}
	res := l.Resolution()
	require.Greater(t, res, time.Second)
	require.LessOrEqual(t, len(l.buckets), 64)
	require.Equal(t, 1000, sum(l, t0.Add(-time.Hour), t0.Add(10*time.Hour)), "nothing lost")
	// A window of the last 5000 s holds 500 values; each edge is off by
	// at most one bucket's values.
	got := sum(l, t0.Add(4990*time.Second), t0.Add(9990*time.Second))
	perBucket := int(res/(10*time.Second)) + 1
	require.InDelta(t, 500, got, float64(2*perBucket))
}

func TestNegativeTimes(t *testing.T) {
	l := New(1, 8, func(d *int, s int) { *d += s })
	l.Add(time.Unix(-5, 0), 1)
	l.Add(time.Unix(-1, 500), 1)
	l.Add(time.Unix(3, 0), 1)
	require.Equal(t, 3, sum(l, time.Unix(-100, 0), time.Unix(100, 0)))
	require.Equal(t, 1, sum(l, time.Unix(0, 0), time.Unix(100, 0)))
}
