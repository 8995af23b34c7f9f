package tracegrpc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// BenchmarkUnaryRoundTrip measures a unary call on loopback, untraced and
// traced by flowtrace on both sides (spans handed to a batcher whose
// exporter discards them, so the numbers are the middleware's and the
// tracer's cost, not an exporter's).
func BenchmarkUnaryRoundTrip(b *testing.B) {
	run := func(b *testing.B, sopts []grpc.ServerOption, dopts []grpc.DialOption) {
		e := startEnv(b, sopts, dopts)
		ctx := context.Background()
		_, err := e.unary(ctx, "warm")
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := e.unary(ctx, "x"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("untraced", func(b *testing.B) { run(b, nil, nil) })
	b.Run("flowtrace", func(b *testing.B) {
		batcher := export.NewBatcher(export.NewDiscard())
		tr := tracer.New(tracer.WithProcessor(batcher), tracer.WithPropagator(propagation.Default()))
		b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
		opt := tracegrpc.WithTracer(tr)
		run(b, tracegrpc.ServerOptions(opt), tracegrpc.DialOptions(opt))
	})
	b.Run("flowtrace-unsampled", func(b *testing.B) {
		tr := tracer.New(tracer.WithSampler(tracer.AlwaysOff()), tracer.WithPropagator(propagation.Default()))
		opt := tracegrpc.WithTracer(tr)
		run(b, tracegrpc.ServerOptions(opt), tracegrpc.DialOptions(opt))
	})
}
