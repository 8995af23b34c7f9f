package tracegrpc_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/opentracing/opentracing-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
)

// A traced server and client: one call each wires unary and streaming
// calls, health checks are left out, and the flow id of the caller comes
// back in the response header.
func Example() {
	tr := tracer.New(tracer.WithPropagator(propagation.Default()))
	opts := []tracegrpc.Option{
		tracegrpc.WithTracer(tr),
		tracegrpc.WithFilter(func(_ context.Context, m string) bool {
			return !strings.HasPrefix(m, "/grpc.health.v1.Health/Watch")
		}),
	}

	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := grpc.NewServer(tracegrpc.ServerOptions(append(opts, tracegrpc.WithRecovery())...)...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	defer hs.Shutdown()

	conn, _ := grpc.NewClient(lis.Addr().String(), append(tracegrpc.DialOptions(opts...),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	defer conn.Close()

	span := tr.StartSpan("checkout")
	defer span.Finish()
	ctx := opentracing.ContextWithSpan(context.Background(), span)
	ctx = flowid.ContextWith(ctx, "order-4711")

	var hdr metadata.MD
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&hdr))
	fmt.Println(resp.GetStatus(), err, hdr.Get("x-flow-id"))
	// Output: SERVING <nil> [order-4711]
}

// MetadataCarrier lets any propagator write gRPC metadata; it refuses what
// grpc-go would reject.
func ExampleMetadataCarrier() {
	md := metadata.MD{}
	c := tracegrpc.MetadataCarrier(md)
	c.Set("X-Flow-ID", "abc")
	c.Set("baggage", "k=v\r\nInjected: 1")
	fmt.Println(len(md), md.Get("x-flow-id"), md.Get("baggage"))
	// Output: 1 [abc] []
}
