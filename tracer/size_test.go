package tracer

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestSpanShapeSizes pins the span shapes to their allocation size
// classes: bytes allocated per span set how often the garbage collector
// runs. The small shape (a local child started without tags) has no
// inline event, which keeps it in the 512-byte class; the large shape,
// its malloc header included, is in the 768-byte class.
func TestSpanShapeSizes(t *testing.T) {
	t.Logf("Span %d, spanSmall %d, spanLarge %d, spanLayered %d",
		unsafe.Sizeof(Span{}), unsafe.Sizeof(spanSmall{}), unsafe.Sizeof(spanLarge{}), unsafe.Sizeof(spanLayered{}))
	// An object of more than 512 bytes with pointers starts with an
	// 8-byte malloc header (its type): 768 bytes of span would be 776,
	// in the 896-byte class.
	const mallocHeader = 8
	require.LessOrEqual(t, unsafe.Sizeof(spanSmall{}), uintptr(512), "no header up to 512 bytes")
	require.LessOrEqual(t, unsafe.Sizeof(spanLarge{})+mallocHeader, uintptr(768))
	require.LessOrEqual(t, unsafe.Sizeof(spanWide{})+mallocHeader, uintptr(1024))
	// The layered API adds 64 bytes of its own (oteltracer's sampledSpan).
	require.LessOrEqual(t, unsafe.Sizeof(spanLayered{})+64+mallocHeader, uintptr(768))
}
