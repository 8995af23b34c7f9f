package oteltracer

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// A started span with its view and context is one allocation in the
// 768-byte size class of an OpenTracing span with room for 8 attributes
// (see tracer.RecordingSpan): more bytes per span would make the garbage
// collector run more often for the OpenTelemetry API alone.
// An object of more than 512 bytes with pointers has an 8-byte malloc
// header, counted here.
func TestSampledSpanSizeClass(t *testing.T) {
	const mallocHeader = 8
	require.LessOrEqual(t, unsafe.Sizeof(sampledSpan{})+mallocHeader, uintptr(768))
}

// An unsampled span with its view and context is one allocation in the
// 192-byte size class (tracer.NonRecordingSpan and a 56-byte view and
// context).
func TestUnsampledSpanSizeClass(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(unsampledSpan{}), uintptr(192))
}
