package tracegrpc

import (
	"context"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"
)

func TestIncomingCarrierReadsWithoutCopying(t *testing.T) {
	t.Parallel()
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{
		"traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		"x-flow-id":   {"bad\x01value", "good-id"},
		"uberctx-k":   {"v"},
		"bin-bin":     {"\x00\x01"},
	})
	c := incomingCarrier{ctx, metadata.ValueFromIncomingContext(ctx, "x-flow-id")} // as startServer builds it
	require.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", c.Get("Traceparent"), "keys match case-insensitively")
	require.Equal(t, "good-id", c.Get("x-flow-id"), "values grpc would reject are skipped")
	require.Equal(t, []string{"good-id"}, c.Values("X-Flow-ID"))
	require.Empty(t, c.Get("missing"))
	require.Empty(t, c.Get("bad key"))
	c.Set("traceparent", "changed")
	require.NotEqual(t, "changed", c.Get("traceparent"), "the carrier is read-only")
	keys := c.Keys()
	sort.Strings(keys)
	require.Equal(t, []string{"traceparent", "uberctx-k", "x-flow-id"}, keys)
	require.Empty(t, incomingCarrier{ctx: context.Background()}.Keys())
}
