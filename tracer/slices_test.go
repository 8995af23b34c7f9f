package tracer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Slices of strings, bools, int64s and float64s (OpenTelemetry's array
// attribute types) are kept as slices, copied when set so that a caller
// changing its slice later does not change the span, with each string
// bounded by Limits.AttributeValueLength.
func TestSliceTags(t *testing.T) {
	lim := DefaultLimits()
	lim.AttributeValueLength = 4
	tr, rec := newRecorded(WithLimits(lim))
	strs := []string{"a", "abcdefgh"}
	ints := []int64{1, 2}
	s := tr.StartSpan("op")
	s.SetTag("strs", strs)
	s.SetTag("ints", ints)
	s.SetTag("bools", []bool{true})
	s.SetTag("floats", []float64{0.5})
	s.SetTag("other", []int{1}) // not an OTLP array type: text, as before
	strs[0], ints[0] = "changed", 9
	s.Finish()

	got := map[string]any{}
	for _, a := range rec.all()[0].Attributes {
		got[a.Key] = a.Value
	}
	require.Equal(t, []string{"a", "abcd"}, got["strs"])
	require.Equal(t, []int64{1, 2}, got["ints"])
	require.Equal(t, []bool{true}, got["bools"])
	require.Equal(t, []float64{0.5}, got["floats"])
	require.Equal(t, "[1]", got["other"])
	require.False(t, strings.Contains(got["strs"].([]string)[1], "e"))
}
