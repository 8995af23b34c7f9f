//go:build !race

package remotesampling

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStartSpanAllocations: StartSpan with the remote sampler installed
// costs at most 1.1× the allocations of the static sampler it stands in
// for (traceidratio at the same probability). The race detector allocates,
// hence the tag.
func TestStartSpanAllocations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		strategy response
	}{
		{"probabilistic", response{kind: kindProbabilistic, probability: 1}},
		{"per operation", response{kind: kindPerOperation, probability: 1, operations: []operation{{"GET /orders/{id}", 1}}}},
		{"per operation with lower bound", response{kind: kindPerOperation, probability: 1, lowerBound: 5, operations: []operation{{"GET /orders/{id}", 1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			static, remote := benchTracers(tc.strategy)
			staticAllocs := testing.AllocsPerRun(500, func() { workload(static) })
			remoteAllocs := testing.AllocsPerRun(500, func() { workload(remote) })
			t.Logf("allocs per root+child: static %.1f, remote %.1f", staticAllocs, remoteAllocs)
			require.LessOrEqual(t, remoteAllocs, 1.1*staticAllocs)
		})
	}
}
