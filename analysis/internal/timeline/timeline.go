// Package timeline keeps values by time in bounded memory, for the tools
// whose answer depends on a window ending at a time known only at the end
// of the input (slo and triage evaluate at the latest span end).
//
// A [Timeline] keeps every value exactly, with its time, up to a bound
// (so small and medium inputs give exactly the answers of an in-memory
// pass); past it, values are merged into buckets of time, one second wide
// and doubled as often as needed to keep their number bounded. A window
// (from, to] then counts a bucket when the bucket's middle is after from
// and its start is not after to: a window ending at or after the latest
// value (the tools' case) ends exactly, and its start is off by at most
// the values of one bucket; [Timeline.Resolution] says how wide a bucket
// is.
package timeline

import (
	"cmp"
	"slices"
	"time"
)

// Defaults for New.
const (
	DefaultExact   = 1 << 18
	DefaultBuckets = 1 << 14
)

// Timeline keeps values of type V by time; merge adds one value into
// another (for buckets).
type Timeline[V any] struct {
	exact      []entry[V]
	buckets    map[int64]*V // by bucket start, in ns
	res        int64        // bucket width in ns; 0 while exact
	maxExact   int
	maxBuckets int
	merge      func(dst *V, src V)
}

type entry[V any] struct {
	at int64
	v  V
}

// New returns a Timeline keeping up to maxExact values exactly and then
// at most maxBuckets buckets (<= 0: the defaults).
func New[V any](maxExact, maxBuckets int, merge func(dst *V, src V)) *Timeline[V] {
	if maxExact <= 0 {
		maxExact = DefaultExact
	}
	if maxBuckets <= 0 {
		maxBuckets = DefaultBuckets
	}
	return &Timeline[V]{maxExact: maxExact, maxBuckets: maxBuckets, merge: merge}
}

// Add adds v at time at.
func (l *Timeline[V]) Add(at time.Time, v V) {
	ns := at.UnixNano()
	if l.res == 0 {
		l.exact = append(l.exact, entry[V]{ns, v})
		if len(l.exact) <= l.maxExact {
			return
		}
		l.res = int64(time.Second)
		l.buckets = map[int64]*V{}
		for _, e := range l.exact {
			l.bucket(e.at, e.v)
		}
		l.exact = nil
	} else {
		l.bucket(ns, v)
	}
	for len(l.buckets) > l.maxBuckets {
		l.res *= 2
		old := l.buckets
		l.buckets = make(map[int64]*V, len(old)/2+1)
		for k, v := range old {
			l.bucket(k, *v)
		}
	}
}

func (l *Timeline[V]) bucket(ns int64, v V) {
	k := floorDiv(ns, l.res) * l.res
	if b := l.buckets[k]; b != nil {
		l.merge(b, v)
		return
	}
	c := v
	l.buckets[k] = &c
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Resolution is the width of a bucket, 0 while every value is kept
// exactly.
func (l *Timeline[V]) Resolution() time.Duration { return time.Duration(l.res) }

// Each calls fn with the values in (from, to] (buckets as described in
// the package documentation): exact values in the order they were added,
// buckets in time order.
func (l *Timeline[V]) Each(from, to time.Time, fn func(V)) {
	f, t := from.UnixNano(), to.UnixNano()
	for _, e := range l.exact {
		if e.at > f && e.at <= t {
			fn(e.v)
		}
	}
	if l.res == 0 {
		return
	}
	keys := make([]int64, 0, len(l.buckets))
	for k := range l.buckets {
		if mid := k + l.res/2; mid > f && k <= t {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmp.Compare[int64])
	for _, k := range keys {
		fn(*l.buckets[k])
	}
}
