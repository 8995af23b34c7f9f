//go:build !race

package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"
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
	t.Logf("unsampled without New: %.0f", unsampled)
	// An unsampled root and its unsampled child: an eighth of an
	// allocation, the root's (a leanBlock holds 8 roots, each with room
	// for its first child's span), which AllocsPerRun rounds down.
	require.LessOrEqual(t, unsampled, noop, "an unsampled root and child cost no allocation more than no-op spans, but for 1/8")
	for _, sampler := range []Sampler{AlwaysOff(), ParentBased(AlwaysOff())} {
		tr := New(WithSampler(sampler))
		n := testing.AllocsPerRun(800, func() { spanWorkload(tr, true) })
		require.LessOrEqual(t, n, noop, sampler.Description())
	}
	// One allocation per sampled span: its tags fit its first attributes.
	require.LessOrEqual(t, sampled, noop+2)

	// An unsampled child of an unsampled span: its two-word span, and
	// the ChildOf option the caller boxes, which escapes here (an option
	// of unknown type is applied through its Apply method) and not for
	// the no-op tracer.
	root := unsampledTracer.StartSpan("root")
	ref := opentracing.ChildOf(root.Context())
	child := testing.AllocsPerRun(200, func() { unsampledTracer.StartSpan("child", ref) })
	noopChild := testing.AllocsPerRun(200, func() { opentracing.NoopTracer{}.StartSpan("child", ref) })
	t.Logf("unsampled child %.0f, no-op child %.0f", child, noopChild)
	require.LessOrEqual(t, child, noopChild+2)

	// Reference's one-word option: the child's span alone (the root's
	// spare span is taken by the first child).
	refChild := testing.AllocsPerRun(200, func() { unsampledTracer.StartSpan("child", Reference(opentracing.ChildOfRef, root.Context())) })
	require.LessOrEqual(t, refChild, 1.0)

	// The first event's fields go into the span's spare attribute room:
	// an event costs the caller's field slice (it escapes, as into any
	// recording tracer) and the boxing of a string value, no field array.
	spanOnly := testing.AllocsPerRun(50, func() { sampledTracer.StartSpan("op").SetTag("k", "v") })
	spanEvent := testing.AllocsPerRun(50, func() {
		sampledTracer.StartSpan("op").LogFields(log.String("event", "cache miss"), log.String("key", "order:42"))
	})
	t.Logf("span %.0f, span with an event %.0f", spanOnly, spanEvent)
	require.LessOrEqual(t, spanEvent, spanOnly+2)
}
