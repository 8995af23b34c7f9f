//go:build !race

package tracer

import (
	"strconv"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"
)

// A span started with AttributeRoom(16) holds 16 attributes in its own
// allocation: its attribute slice never grows, and it records what a span
// without the option records.
func TestAttributeRoom(t *testing.T) {
	tr := New(WithProcessor(discard{}))
	keys := make([]string, 16)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	fill := func(opts ...opentracing.StartSpanOption) *Span {
		s := tr.StartSpan("op", opts...).(*Span)
		for _, k := range keys[:16-len(s.data.Attributes)] {
			s.SetTag(k, 1)
		}
		return s
	}
	plain := testing.AllocsPerRun(100, func() { fill(ext.SpanKindRPCServer) })
	roomy := testing.AllocsPerRun(100, func() { fill(ext.SpanKindRPCServer, AttributeRoom(16)) })
	t.Logf("16 attributes: %.0f allocations, %.0f with AttributeRoom(16)", plain, roomy)
	require.Equal(t, plain-1, roomy, "the attribute slice does not grow")

	a, b := fill(ext.SpanKindRPCServer), fill(ext.SpanKindRPCServer, AttributeRoom(16))
	require.Equal(t, a.data.Attributes, b.data.Attributes)
	require.Equal(t, a.data.Kind, b.data.Kind)
	require.Equal(t, 16, cap(b.data.Attributes))
	// Few attributes, or another tracer: no effect.
	require.Equal(t, 8, cap(tr.StartSpan("op", AttributeRoom(8)).(*Span).data.Attributes))
	opentracing.NoopTracer{}.StartSpan("op", AttributeRoom(16)).Finish()
}
