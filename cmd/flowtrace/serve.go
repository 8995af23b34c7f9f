package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/serve"
	"github.com/flowtrace/flowtrace/analysis/slo"
)

func init() {
	register(command{name: "serve", summary: "receive OTLP and serve live metrics, service diagram and SLOs", run: runServe})
}

// serveSignals is what stops serve; tests replace it.
var serveSignals = func(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "[flags]",
		"Receives spans over OTLP (gRPC and HTTP) and runs the tools on them as they\n"+
			"arrive (package analysis/live): Prometheus series at /metrics (the collector's\n"+
			"servicegraph and spanmetrics names, SLI counters per SLO of --slos, fan-out per\n"+
			"critical operation), and at / a page with the live service diagram and the SLO\n"+
			"table. A trace is analysed once it has received no span for --idle. It runs\n"+
			"until interrupted, then analyses the traces still assembling.\n"+
			"Listeners default to 127.0.0.1; '-' turns one off.", stderr)
	grpcAddr := fs.String("grpc", serve.DefaultGRPCAddr, "OTLP/gRPC listen `address`")
	httpAddr := fs.String("http", serve.DefaultHTTPAddr, "OTLP/HTTP, /metrics and page listen `address`")
	slos := fs.String("slos", "", "SLO definitions (YAML) `file`: SLI counters and the SLO table")
	idle := fs.Duration("idle", live.DefaultIdle, "a trace is complete after this long without a span")
	maxSeries := fs.Int("max-series", live.DefaultMaxSeries, "series limit per metric family (the rest is counted in an overflow series)")
	maxHeld := fs.Int("max-held", live.DefaultMaxHeld, "spans held while their traces assemble")
	maxReq := fs.Int("max-request-bytes", serve.DefaultMaxRequestBytes, "largest OTLP request, compressed or not")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return fail(stderr, "serve", fmt.Errorf("%w: serve reads no files (got %q)", errUsage, rest))
	}
	cfg := live.Config{Idle: *idle, MaxSeries: *maxSeries, MaxHeld: *maxHeld}
	if *slos != "" {
		c, err := slo.LoadFile(*slos)
		if err != nil {
			return fail(stderr, "serve", err)
		}
		cfg.SLOs = c
	}
	core := live.New(cfg)
	srv, err := serve.Start(core, serve.Config{GRPCAddr: *grpcAddr, HTTPAddr: *httpAddr, MaxRequestBytes: *maxReq})
	if err != nil {
		return fail(stderr, "serve", err)
	}
	if a := srv.GRPCAddr(); a != "" {
		fmt.Fprintf(stdout, "OTLP/gRPC on %s\n", a)
	}
	if a := srv.HTTPAddr(); a != "" {
		fmt.Fprintf(stdout, "OTLP/HTTP on http://%s/v1/traces\nmetrics on http://%s/metrics\nlive view on http://%s/\n", a, a, a)
	}
	ctx, stop := serveSignals(context.Background())
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fail(stderr, "serve", err)
	}
	return exitOK
}
