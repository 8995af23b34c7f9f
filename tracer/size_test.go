package tracer

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestSpanShapeSizes pins the span shapes to their allocation size
// classes: bytes allocated per span set how often the garbage collector
// runs. The small shape (a local child started without tags) has no
// inline event, which keeps it in the 512-byte class.
func TestSpanShapeSizes(t *testing.T) {
	t.Logf("Span %d, spanSmall %d, spanLarge %d, spanLayered %d",
		unsafe.Sizeof(Span{}), unsafe.Sizeof(spanSmall{}), unsafe.Sizeof(spanLarge{}), unsafe.Sizeof(spanLayered{}))
	require.LessOrEqual(t, unsafe.Sizeof(spanSmall{}), uintptr(512))
	require.LessOrEqual(t, unsafe.Sizeof(spanLarge{}), uintptr(768))
	require.LessOrEqual(t, unsafe.Sizeof(spanWide{}), uintptr(1024))
}
