package soak

import (
	"math/bits"
	"sync/atomic"
	"testing"
	"time"
)

// histogram is a fixed-size, lock-free latency histogram: 1 µs buckets
// below 128 µs, then 64 buckets per power of two (under 1.6% error). Its
// memory does not grow with the number of samples, so it does not count
// against the soak's heap bound.
type histogram struct {
	buckets [numBuckets]atomic.Uint64
	n       atomic.Uint64
	max     atomic.Int64 // µs
}

const (
	linearBuckets = 128
	subBuckets    = 64
	numBuckets    = linearBuckets + 40*subBuckets
)

func bucketOf(us int64) int {
	if us < linearBuckets {
		return int(max(us, 0))
	}
	e := bits.Len64(uint64(us)) - 7 // us>>e is in [64, 128)
	b := linearBuckets + (e-1)*subBuckets + int(us>>e) - subBuckets
	return min(b, numBuckets-1)
}

// bucketMid returns the middle of bucket b's range, in µs.
func bucketMid(b int) int64 {
	if b < linearBuckets {
		return int64(b)
	}
	e := (b-linearBuckets)/subBuckets + 1
	m := int64((b-linearBuckets)%subBuckets + subBuckets)
	return (m<<e + (m+1)<<e - 1) / 2
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	h.buckets[bucketOf(us)].Add(1)
	h.n.Add(1)
	for {
		old := h.max.Load()
		if us <= old || h.max.CompareAndSwap(old, us) {
			return
		}
	}
}

// quantile returns the q-quantile (0 < q <= 1), or 0 without samples.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for b := range h.buckets {
		seen += h.buckets[b].Load()
		if seen >= rank {
			return time.Duration(min(bucketMid(b), h.max.Load())) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

func (h *histogram) count() uint64 { return h.n.Load() }

func TestHistogram(t *testing.T) {
	for _, us := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 12345, 1 << 30} {
		b := bucketOf(us)
		mid := bucketMid(b)
		if diff := float64(mid-us) / float64(max(us, 1)); diff > 0.016 || diff < -0.016 {
			t.Errorf("%d µs: bucket %d, middle %d µs (%.2f%% off)", us, b, mid, 100*diff)
		}
		if b > 0 && bucketOf(us) < bucketOf(max(us-1, 0)) {
			t.Errorf("buckets not monotonic at %d µs", us)
		}
	}
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	if p50 := h.quantile(0.5); p50 < 490*time.Microsecond || p50 > 510*time.Microsecond {
		t.Errorf("p50 = %v, want about 500µs", p50)
	}
	if p99 := h.quantile(0.99); p99 < 975*time.Microsecond || p99 > 1000*time.Microsecond {
		t.Errorf("p99 = %v, want about 990µs", p99)
	}
	if got := h.quantile(1); got != 1000*time.Microsecond {
		t.Errorf("max = %v, want 1ms", got)
	}
}
