package tracegrpc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// TestClientMetadataOnTheWire: what a traced client sends, as an untraced
// server receives it, with and without outgoing metadata of the caller's
// (the two ways the client writes it): traceparent, the baggage with the
// flow id, x-flow-id, one value each, no tracestate when there is none;
// the caller's traceparent is replaced, its flow id and other keys kept.
func TestClientMetadataOnTheWire(t *testing.T) {
	t.Parallel()
	got := make(chan metadata.MD, 1)
	capture := grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		got <- md
		return h(ctx, req)
	})
	for _, sampled := range []bool{true, false} {
		sampler := tracer.AlwaysOn()
		if !sampled {
			sampler = tracer.AlwaysOff()
		}
		tr := tracer.New(tracer.WithSampler(sampler), tracer.WithPropagator(propagation.Default()))
		e := startEnv(t, []grpc.ServerOption{capture}, tracegrpc.DialOptions(tracegrpc.WithTracer(tr)))
		for _, caller := range []metadata.MD{nil, metadata.Pairs("k", "v", "x-flow-id", "f-caller", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")} {
			ctx := context.Background()
			if caller != nil {
				ctx = metadata.NewOutgoingContext(ctx, caller)
			}
			_, err := e.unary(ctx, "x")
			require.NoError(t, err)
			md := <-got
			for _, k := range []string{"traceparent", "baggage", "x-flow-id"} {
				require.Len(t, md[k], 1, k)
			}
			assert.NotContains(t, md, "tracestate")
			assert.Equal(t, "flow_id="+md["x-flow-id"][0], md["baggage"][0])
			tp := md["traceparent"][0]
			assert.Equal(t, sampled, strings.ContainsRune("13579bdf", rune(tp[len(tp)-1])), "sampled flag: %s", tp)
			if caller != nil {
				assert.Equal(t, []string{"v"}, md["k"])
				assert.Equal(t, "f-caller", md["x-flow-id"][0], "the caller's valid flow id is kept")
				assert.NotContains(t, md["traceparent"][0], "0af7651916cd43dd8448eb211c80319c")
			}
		}
	}
}
