//go:build !race

package tracer

import (
	"strings"
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

// TestExtractAllocs: an extracted context with a one-member baggage (a
// flow id) is one allocation, the context and the member together (it
// was two), as one without baggage is; a carrier with nothing costs none.
func TestExtractAllocs(t *testing.T) {
	tr := New(WithProcessor(discard{}))
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	full := foldCarrier{{"traceparent", tp}, {"baggage", "flow_id=4f1c2a9e-1d2b-4c3d-9e8f-7a6b5c4d3e2f"}}
	var sink opentracing.SpanContext
	for _, tc := range []struct {
		c      foldCarrier
		allocs float64
	}{{full, 1}, {foldCarrier{{"traceparent", tp}}, 1}, {foldCarrier{{"other", "x"}}, 0}} {
		c := any(tc.c) // the caller's conversion
		require.Equal(t, tc.allocs, testing.AllocsPerRun(100, func() { sink, _ = tr.Extract(opentracing.TextMap, c) }), tc.c)
	}
	_ = sink
}

// foldCarrier is a propagation.Carrier whose reads allocate nothing.
type foldCarrier [][2]string

func (c foldCarrier) Get(key string) string {
	for _, kv := range c {
		if strings.EqualFold(kv[0], key) {
			return kv[1]
		}
	}
	return ""
}
func (foldCarrier) Set(string, string) {}
func (foldCarrier) Keys() []string     { return nil }
