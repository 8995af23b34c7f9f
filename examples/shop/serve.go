package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/serve"
	"github.com/flowtrace/flowtrace/analysis/slo"
)

// shopSLOs are the SLOs the live view shows: one per critical operation
// the edge tags, and a latency SLO on the catalog.
const shopSLOs = `slos:
  - name: browse-availability
    critical_operation: browse
    target: 0.99
    window: 28d
  - name: add-to-cart-availability
    critical_operation: add-to-cart
    target: 0.99
    window: 28d
  - name: checkout-availability
    critical_operation: checkout
    target: 0.999
    window: 28d
  - name: catalog-latency
    service: catalog
    operation: GET /products
    latency: 50ms
    target: 0.95
    window: 7d
`

// startServe starts an in-process flowtrace serve: OTLP/gRPC on a free
// loopback port for the services, the page and /metrics on addr.
func startServe(addr string, stdout io.Writer) (*serve.Server, error) {
	cfg, err := slo.Parse([]byte(shopSLOs), "shop SLOs")
	if err != nil {
		return nil, err
	}
	// Spans reach serve every 200 ms (OTEL_BSP_SCHEDULE_DELAY); a trace
	// idle for 2 s is complete.
	core := live.New(live.Config{SLOs: cfg, Idle: 2 * time.Second})
	srv, err := serve.Start(core, serve.Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: addr, Title: "shop"})
	if err != nil {
		return nil, fmt.Errorf("starting flowtrace serve: %w", err)
	}
	fmt.Fprintf(stdout, "live view on http://%s/ (metrics at /metrics); Ctrl-C stops the shop\n", srv.HTTPAddr())
	return srv, nil
}

// serveLoad keeps the load generator running, a second at a time, until
// ctx ends.
func serveLoad(ctx context.Context, edge string, opts options, stderr io.Writer) error {
	opts.duration = time.Second
	for ctx.Err() == nil {
		generateLoad(ctx, edge, opts, io.Discard)
	}
	fmt.Fprintln(stderr, "stopping the shop")
	return nil
}
