package stats

import (
	"math"
	"slices"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// RelativeAccuracy is the relative error of a [Sketch]'s quantiles once it
// has left exact mode: a returned quantile q' of a true nearest-rank
// quantile q satisfies |q'-q| <= RelativeAccuracy*q.
const RelativeAccuracy = 0.01

// ExactSamples is how many samples a [Sketch] keeps exactly before it
// switches to a DDSketch. Below it, quantiles are those of [Quantiles]
// bit for bit, so small inputs (the golden files) give exact figures.
const ExactSamples = 1024

// maxBins bounds a sketch's bins. With 1% accuracy, 2048 bins cover
// durations from 1ns to far beyond a year, so the collapse of the lowest
// bins (which would lose accuracy there) never happens on real durations;
// it only bounds memory on hostile ones.
const maxBins = 2048

// Sketch is a mergeable summary of weighted durations: exact up to
// [ExactSamples] samples, then a DDSketch (github.com/DataDog/sketches-go)
// with [RelativeAccuracy]. Its memory is bounded (at most about 16 KiB of
// samples or 2048 bins) whatever the number of samples. The zero value is
// an empty sketch ready to use.
type Sketch struct {
	exact    []Sample
	dd       *ddsketch.DDSketch
	min, max time.Duration
	total    float64
	n        int
}

// Add records d with weight w (how many observations it stands for).
// Negative durations count as 0; non-positive or NaN weights are ignored.
func (s *Sketch) Add(d time.Duration, w float64) {
	if !(w > 0) || math.IsInf(w, 0) {
		return
	}
	if d < 0 {
		d = 0
	}
	if s.n == 0 || d < s.min {
		s.min = d
	}
	if s.n == 0 || d > s.max {
		s.max = d
	}
	s.n++
	s.total += w
	if s.dd == nil {
		s.exact = append(s.exact, Sample{Value: d, Weight: w})
		if len(s.exact) > ExactSamples {
			s.spill()
		}
		return
	}
	// Durations are at most ~9.2e18 ns, well inside the mapping's range.
	_ = s.dd.AddWithCount(float64(d), w)
}

func newDD() *ddsketch.DDSketch {
	m, err := mapping.NewLogarithmicMapping(RelativeAccuracy)
	if err != nil {
		panic(err) // a constant accuracy in (0, 1) cannot fail
	}
	return ddsketch.NewDDSketch(m, store.NewCollapsingLowestDenseStore(maxBins), store.NewCollapsingLowestDenseStore(maxBins))
}

// spill moves the exact samples into a DDSketch.
func (s *Sketch) spill() {
	s.dd = newDD()
	for _, x := range s.exact {
		_ = s.dd.AddWithCount(float64(x.Value), x.Weight)
	}
	s.exact = nil
}

// Merge adds o's samples to s. The result is what adding them one by one
// would give, except that two exact sketches whose sum exceeds
// ExactSamples become one DDSketch.
func (s *Sketch) Merge(o *Sketch) {
	if o == nil || o.n == 0 {
		return
	}
	if s.n == 0 || o.min < s.min {
		s.min = o.min
	}
	if s.n == 0 || o.max > s.max {
		s.max = o.max
	}
	s.n += o.n
	s.total += o.total
	switch {
	case s.dd == nil && o.dd == nil:
		s.exact = append(s.exact, o.exact...)
		if len(s.exact) > ExactSamples {
			s.spill()
		}
	case s.dd == nil:
		ex := s.exact
		s.exact = nil
		s.dd = newDD()
		_ = s.dd.MergeWith(o.dd)
		for _, x := range ex {
			_ = s.dd.AddWithCount(float64(x.Value), x.Weight)
		}
	case o.dd == nil:
		for _, x := range o.exact {
			_ = s.dd.AddWithCount(float64(x.Value), x.Weight)
		}
	default:
		_ = s.dd.MergeWith(o.dd)
	}
}

// Count returns the number of samples added.
func (s *Sketch) Count() int { return s.n }

// Exact reports whether the quantiles are still exact.
func (s *Sketch) Exact() bool { return s.dd == nil }

// Quantiles returns the weighted nearest-rank quantiles for each q in qs
// (as [Quantiles] defines them), exact in exact mode and within
// RelativeAccuracy after; zeros for an empty sketch. Results never leave
// the exact [min, max] of the samples, and q <= 0 and q >= 1 give those
// exactly.
func (s *Sketch) Quantiles(qs ...float64) []time.Duration {
	if s.dd == nil {
		return Quantiles(slices.Clone(s.exact), qs...)
	}
	out := make([]time.Duration, len(qs))
	type bin struct{ v, w float64 }
	var bins []bin
	var total float64
	s.dd.ForEach(func(v, w float64) bool {
		bins = append(bins, bin{v, w})
		total += w
		return false
	})
	if total <= 0 {
		return out
	}
	slices.SortFunc(bins, func(a, b bin) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	for i, q := range qs {
		switch {
		case q >= 1:
			out[i] = s.max // the largest sample, which nearest rank returns for q = 1
			continue
		case q <= 0:
			out[i] = s.min
			continue
		}
		need := q * total
		v := bins[len(bins)-1].v
		var cum float64
		for _, b := range bins {
			cum += b.w
			if cum >= need*(1-1e-12) {
				v = b.v
				break
			}
		}
		// Clamp in float64 first: float64(math.MaxInt64) rounds up, and
		// converting it back would overflow.
		v = max(float64(s.min), min(float64(s.max), math.Round(v)))
		if v >= float64(s.max) {
			out[i] = s.max
		} else {
			out[i] = time.Duration(v)
		}
	}
	return out
}
