// Package stats holds the small weighted statistics the analysis tools
// share.
package stats

import (
	"math"
	"slices"
	"time"
)

// Sample is a value with a weight (how many observations it stands for).
type Sample struct {
	Value  time.Duration
	Weight float64
}

// Quantiles returns the weighted nearest-rank quantiles of samples for each
// q in qs (0 < q <= 1): the smallest value whose cumulative weight reaches
// q of the total. It returns zeros for an empty sample. samples is sorted in
// place.
func Quantiles(samples []Sample, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	var total float64
	for _, s := range samples {
		total += s.Weight
	}
	if len(samples) == 0 || total <= 0 {
		return out
	}
	slices.SortStableFunc(samples, func(a, b Sample) int {
		switch {
		case a.Value < b.Value:
			return -1
		case a.Value > b.Value:
			return 1
		}
		return 0
	})
	for i, q := range qs {
		need := q * total
		var cum float64
		out[i] = samples[len(samples)-1].Value
		for _, s := range samples {
			cum += s.Weight
			if cum >= need*(1-1e-12) {
				out[i] = s.Value
				break
			}
		}
	}
	return out
}

// Ratio returns a/b, or 0 when b is 0.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Round rounds x to n decimal places, so printed and encoded numbers are
// stable across platforms.
func Round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}
