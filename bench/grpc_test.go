package bench

import (
	"context"
	"net"
	"testing"

	otgrpc "github.com/opentracing-contrib/go-grpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
)

// grpcCase is one way of instrumenting both ends of a gRPC connection.
type grpcCase struct {
	name  string
	setup func(tb testing.TB) ([]grpc.ServerOption, []grpc.DialOption, func())
}

var grpcCases = []grpcCase{
	{"bare", func(testing.TB) ([]grpc.ServerOption, []grpc.DialOption, func()) { return nil, nil, func() {} }},
	{"flowtrace", func(tb testing.TB) ([]grpc.ServerOption, []grpc.DialOption, func()) {
		tr, done := flowtraceOTLP(tb)
		opt := tracegrpc.WithTracer(tr)
		return tracegrpc.ServerOptions(opt), tracegrpc.DialOptions(opt), done
	}},
	{"otgrpc-jaeger", func(tb testing.TB) ([]grpc.ServerOption, []grpc.DialOption, func()) {
		tr, done := jaegerNull(tb)
		return []grpc.ServerOption{grpc.UnaryInterceptor(otgrpc.OpenTracingServerInterceptor(tr))},
			[]grpc.DialOption{grpc.WithUnaryInterceptor(otgrpc.OpenTracingClientInterceptor(tr))}, done
	}},
	{"otelgrpc-sdk", func(tb testing.TB) ([]grpc.ServerOption, []grpc.DialOption, func()) {
		tp := otelProvider(discardSpanExporter{})
		opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(w3c)}
		return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(opts...))},
			[]grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(opts...))},
			func() { shutdown(tb, tp.Shutdown) }
	}},
}

// BenchmarkGRPCUnary makes sequential unary calls (grpc.health.v1.Health/
// Check, so no generated code of our own) over loopback TCP, with both the
// client and the server instrumented. It reports calls per second; the
// ratio to "bare" is the overhead.
func BenchmarkGRPCUnary(b *testing.B) {
	for _, c := range grpcCases {
		b.Run(c.name, func(b *testing.B) {
			sopts, dopts, done := c.setup(b)
			defer done()
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := grpc.NewServer(sopts...)
			healthpb.RegisterHealthServer(srv, health.NewServer())
			served := make(chan struct{})
			go func() { defer close(served); _ = srv.Serve(lis) }()
			defer func() { srv.Stop(); <-served }()
			conn, err := grpc.NewClient(lis.Addr().String(), append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			client := healthpb.NewHealthClient(conn)
			ctx := context.Background()
			req := &healthpb.HealthCheckRequest{}
			if _, err := client.Check(ctx, req); err != nil { // connect outside the measurement
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Check(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
