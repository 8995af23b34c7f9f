// Command shop is the workshop's shop: an edge (HTTP) that prices a
// checkout with the catalog (HTTP) and places it with the cart (gRPC),
// which publishes the order to Kafka, where the payment service consumes
// it. Each service is this binary run with SHOP_ROLE set; the workshop
// checker (go run ./check N) starts all four on 127.0.0.1 with an
// embedded Kafka broker and OTLP receiver.
//
// This is the shop after step 5 of the workshop (../../README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/examples/workshop/shopkit"
)

func main() {
	// Stopping a pod sends SIGTERM: ctx ends, the servers drain, run returns.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	// Step 1: the tracer configures itself from the environment
	// (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT, ...).
	tracing := flowtrace.Start(ctx)

	err := run(ctx, os.Getenv(shopkit.EnvRole))
	stop()
	// The servers have drained: flush every queued span. A fresh context,
	// because SIGTERM has already cancelled ctx.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if serr := tracing.Shutdown(sctx); serr != nil {
		fmt.Fprintln(os.Stderr, "shop: flushing spans:", serr)
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err) // os.Exit only now: it skips deferred calls
		os.Exit(1)
	}
}

// run serves one service of the shop until ctx ends.
func run(ctx context.Context, role string) error {
	switch role {
	case "edge":
		return serveHTTP(ctx, edgeHandler())
	case "catalog":
		return serveHTTP(ctx, catalogHandler())
	case "cart":
		srv, closeCart := cartServer()
		defer closeCart()
		return serveGRPC(ctx, srv)
	case "payment":
		return runPayment(ctx)
	}
	return fmt.Errorf("unknown %s %q (edge, catalog, cart or payment)", shopkit.EnvRole, role)
}

// serveHTTP serves h on a random 127.0.0.1 port, announced on stdout as
// "ready ADDR", until ctx ends; then it lets requests in flight finish.
func serveHTTP(ctx context.Context, h http.Handler) error {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	fmt.Println("ready", lis.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveGRPC is serveHTTP for a gRPC server.
func serveGRPC(ctx context.Context, srv *grpc.Server) error {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	fmt.Println("ready", lis.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.GracefulStop()
	return <-errc
}
