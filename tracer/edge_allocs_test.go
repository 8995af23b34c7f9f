//go:build !race

package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
)

// TestFirstBaggageItemAllocs: a span's first baggage item (a producer's
// new flow id) takes one allocation, the new context and its member
// together (it took two, the context and a member slice).
func TestFirstBaggageItemAllocs(t *testing.T) {
	for _, tr := range []*Tracer{New(WithProcessor(discard{})), New(WithSampler(AlwaysOff()))} {
		span := testing.AllocsPerRun(100, func() { tr.StartSpan("op") })
		first := testing.AllocsPerRun(100, func() { tr.StartSpan("op").SetBaggageItem("k", "v") })
		require.Equal(t, 1.0, first-span)

		s := tr.StartSpan("op").SetBaggageItem("k", "v").SetBaggageItem("k2", "v2").SetBaggageItem("k", "v3")
		require.Equal(t, "v3", s.BaggageItem("k"))
		require.Equal(t, "v2", s.BaggageItem("k2"))
	}
}

// TestReferenceAllocs: a reference to a flowtrace context costs no
// allocation of its own (opentracing's SpanReference is boxed).
func TestReferenceAllocs(t *testing.T) {
	tr := New(WithProcessor(discard{}))
	parent := tr.StartSpan("parent").Context()
	var sink opentracing.StartSpanOption
	require.Zero(t, testing.AllocsPerRun(100, func() { sink = Reference(opentracing.FollowsFromRef, parent) }))
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { sink = opentracing.FollowsFrom(parent) }))
	_ = sink
}
