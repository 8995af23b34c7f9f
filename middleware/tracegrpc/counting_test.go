package tracegrpc

import (
	"context"
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
	c := &countingCarrier{MetadataCarrier: MetadataCarrier(metadata.MD{}), dropped: &n}
	c.Set("x-flow-id", "ok")
	c.Set("x flow", "bad key")
	c.Set("baggage", "a\r\nb")
	require.Equal(t, uint64(2), n.Load())
	md, _ := metadata.FromOutgoingContext(c.context(context.Background()))
	require.Equal(t, metadata.MD{"x-flow-id": {"ok"}}, md)
}

// TestCountingCarrierPairs: without metadata of the caller's, what an
// injection writes goes to grpc-go as pairs, with MetadataCarrier's rules:
// keys lower-cased, Set replaces, an invalid value removes the key (its
// earlier pair, and the caller's values). With the caller's metadata the
// pairs replace its values of the same keys and leave the others; the
// caller's own MD is never changed.
func TestCountingCarrierPairs(t *testing.T) {
	t.Parallel()
	for _, caller := range []metadata.MD{nil, {"x-flow-id": {"old"}, "baggage": {"b=1"}, "other": {"kept"}}} {
		var n atomic.Uint64
		ctx := context.Background()
		if caller != nil {
			ctx = metadata.NewOutgoingContext(ctx, caller)
		}
		c := outgoing(ctx, nil)
		c.dropped = &n
		c.Set("TraceParent", "tp1")
		c.Set("traceparent", "tp2")
		c.Set("x-flow-id", "f1")
		c.Set("tracestate", "a=1")
		c.Set("baggage", "bad\x00")
		c.Set("tracestate", "bad\r\n")
		require.Equal(t, uint64(2), n.Load())
		md, _ := metadata.FromOutgoingContext(c.context(ctx))
		want := metadata.MD{"traceparent": {"tp2"}, "x-flow-id": {"f1"}}
		if caller != nil {
			want["other"] = []string{"kept"}
			require.Equal(t, metadata.MD{"x-flow-id": {"old"}, "baggage": {"b=1"}, "other": {"kept"}}, caller)
		}
		require.Equal(t, want, md)
	}
}
