package export

import (
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/flowtrace/flowtrace/tracer"
)

// Array attributes (OpenTelemetry's slice types) are OTLP ArrayValues of
// their element type, not text.
func TestToOTLPArrays(t *testing.T) {
	s := mkSpan(1)
	s.Attributes = []tracer.Attribute{
		{Key: "strs", Value: []string{"a", "b\xff"}},
		{Key: "bools", Value: []bool{true, false}},
		{Key: "ints", Value: []int64{1, -2}},
		{Key: "floats", Value: []float64{0.5}},
		{Key: "empty", Value: []string{}},
	}
	rs := ToOTLP(testRes, "s", "v", []*tracer.SpanData{s})
	got := map[string][]*commonpb.AnyValue{}
	for _, kv := range rs[0].ScopeSpans[0].Spans[0].Attributes {
		arr := kv.Value.GetArrayValue()
		require.NotNil(t, arr, kv.Key)
		got[kv.Key] = arr.Values
	}
	require.Len(t, got["strs"], 2)
	require.Equal(t, "a", got["strs"][0].GetStringValue())
	require.Equal(t, "b\uFFFD", got["strs"][1].GetStringValue())
	require.True(t, got["bools"][0].GetBoolValue())
	require.IsType(t, &commonpb.AnyValue_BoolValue{}, got["bools"][1].Value)
	require.Equal(t, int64(-2), got["ints"][1].GetIntValue())
	require.Equal(t, 0.5, got["floats"][0].GetDoubleValue())
	require.Empty(t, got["empty"])
	scalars := *s
	scalars.Attributes = nil
	for _, a := range s.Attributes {
		scalars.Attributes = append(scalars.Attributes, tracer.Attribute{Key: a.Key, Value: true})
	}
	// Each element counts as a scalar, strings with their length too.
	elems := int64(2+2+2+1) * scalarSize
	require.Equal(t, EstimateSize(&scalars)-5*scalarSize+elems+int64(len("a")+len("b\xff")), EstimateSize(s))
}
