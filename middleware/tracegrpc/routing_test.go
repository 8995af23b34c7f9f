package tracegrpc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// TestPublicEndpointRouting: a hostile caller's critical_operation and
// traffic_source baggage is discarded by a public server, whose own rules
// decide.
func TestPublicEndpointRouting(t *testing.T) {
	t.Parallel()
	critical := tracegrpc.WithCriticalOperation(func(m string) string {
		if m == mUnary {
			return "checkout"
		}
		return ""
	})
	for _, tc := range []struct {
		name string
		md   []string
		opts []tracegrpc.Option
		want semconv.Routing
	}{
		{"default traffic rule", []string{"x-traffic-source", "app"}, nil,
			semconv.Routing{CriticalOperation: "checkout", TrafficSource: "app"}},
		{"no x-traffic-source", nil, nil,
			semconv.Routing{CriticalOperation: "checkout", TrafficSource: "unknown"}},
		{"custom traffic rule", []string{"x-traffic-source", "app"},
			[]tracegrpc.Option{tracegrpc.WithTrafficSource(func(context.Context, string) string { return "push" })},
			semconv.Routing{CriticalOperation: "checkout", TrafficSource: "push"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, _, flush := newReceiverTracer(t)
			off := tracer.New(tracer.WithSampler(tracer.ParentBased(tracer.AlwaysOff())))
			server := append([]tracegrpc.Option{tracegrpc.WithTracer(tr), tracegrpc.WithPublicEndpoint(), critical}, tc.opts...)
			// The client is an untraced outsider that writes baggage by hand.
			e := startEnv(t, tracegrpc.ServerOptions(server...), tracegrpc.DialOptions(tracegrpc.WithTracer(off)))
			md := append([]string{
				"baggage", "critical_operation=free,traffic_source=load-test",
				"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
			}, tc.md...)
			ctx := metadata.AppendToOutgoingContext(context.Background(), md...)
			_, err := e.unary(ctx, "x")
			require.NoError(t, err)
			require.Equal(t, tc.want, semconv.FromBaggage(e.echo.last().Span))
			s := flush(1)[0]
			require.Equal(t, tc.want.CriticalOperation, s.Attributes["critical_operation"])
			require.Equal(t, tc.want.TrafficSource, s.Attributes["traffic_source"])
		})
	}
}
