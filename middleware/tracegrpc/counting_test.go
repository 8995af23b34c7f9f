package tracegrpc

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"
)

// TestCountingCarrier: the interceptors' carrier counts each refused write
// into the counter it was given (the tracer's), not into a process-wide
// one (on 030e853 tracegrpc.DroppedValues was process-wide, so tests had to
// take deltas and could not run in parallel).
func TestCountingCarrier(t *testing.T) {
	t.Parallel()
	var n atomic.Uint64
	md := metadata.MD{}
	c := &countingCarrier{MetadataCarrier: MetadataCarrier(md), dropped: &n}
	c.Set("x-flow-id", "ok")
	c.Set("x flow", "bad key")
	c.Set("baggage", "a\r\nb")
	require.Equal(t, uint64(2), n.Load())
	require.Equal(t, metadata.MD{"x-flow-id": {"ok"}}, md)
}
