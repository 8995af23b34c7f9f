//go:build !race

package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
)

// These guards pin the hot path's allocations so that a regression fails a
// test, not only a benchmark. The race detector allocates, hence the tag.
func TestSpanAllocations(t *testing.T) {
	noop := testing.AllocsPerRun(200, func() { spanWorkload(opentracing.NoopTracer{}, true) })
	unsampled := testing.AllocsPerRun(200, func() { spanWorkload(New(WithSampler(AlwaysOff())), true) })
	sampledTracer := New(WithProcessor(discard{}))
	sampled := testing.AllocsPerRun(200, func() { spanWorkload(sampledTracer, true) })
	t.Logf("allocs per root+child workload: noop %.0f, unsampled %.0f, sampled %.0f", noop, unsampled, sampled)
	// New(...) in the unsampled closure costs its own allocations; measure
	// the span work alone.
	unsampledTracer := New(WithSampler(AlwaysOff()))
	unsampled = testing.AllocsPerRun(200, func() { spanWorkload(unsampledTracer, true) })
	require.LessOrEqual(t, unsampled, noop+2, "an unsampled span costs at most one allocation more than a no-op span")
	require.LessOrEqual(t, sampled, noop+6)
}
