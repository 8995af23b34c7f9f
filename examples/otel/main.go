// Command otel is the runnable example of README's "Using OpenTelemetry
// instrumentation with flowtrace": one request through a tracehttp handler
// whose code uses both tracing APIs and whose libraries are instrumented
// with OpenTelemetry (otelsql over pgx, redisotel, otelhttp), in one trace
// and one export pipeline.
//
//	go run ./examples/otel
//
// PostgreSQL and Redis are optional: FLOWTRACE_POSTGRES_DSN (a pgx DSN)
// and FLOWTRACE_REDIS_ADDR (host:port) point at servers; without them that
// step is skipped, with a line saying so, and the rest still runs
// (scripts/otelservers.sh starts throwaway ones). With no
// OTEL_EXPORTER_OTLP_ENDPOINT the spans go to flowtrace's embedded OTLP
// receiver and are printed as a waterfall; with it (a Jaeger all-in-one,
// a collector) they go there.
//
// This is its own module, so that otelsql, pgx and go-redis stay out of
// the builds of flowtrace's users.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/examples/otel/orders"
	"github.com/flowtrace/flowtrace/internal/waterfall"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Stdout, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "otel example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	opts := []flowtrace.Option{config.WithServiceName("orders")}
	var rcv *tracetest.Receiver
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		var err error
		if rcv, err = tracetest.NewReceiver(); err != nil {
			return err
		}
		defer rcv.Close()
		opts = append(opts, config.WithEndpoint(rcv.GRPCEndpoint()), config.WithProtocol(config.ProtocolGRPC))
	}
	// Start sets the OpenTracing global and the OpenTelemetry globals
	// (tracer provider and propagator): libraries that use otel.Tracer
	// and otel.GetTextMapPropagator join flowtrace's traces.
	tracing := flowtrace.Start(ctx, opts...)
	defer tracing.Close()
	tel := orders.Telemetry{Tracer: tracing.Tracer(), TracerProvider: otel.GetTracerProvider(), Propagator: otel.GetTextMapPropagator()}

	svc := &orders.Service{Telemetry: tel}
	if dsn := getenv("FLOWTRACE_POSTGRES_DSN"); dsn != "" {
		db, err := orders.OpenPostgres(dsn, tel)
		if err != nil {
			return err
		}
		defer db.Close()
		svc.DB = db
		fmt.Fprintln(out, "PostgreSQL: querying through otelsql and pgx")
	} else {
		fmt.Fprintln(out, "PostgreSQL: skipped, FLOWTRACE_POSTGRES_DSN is not set (no otelsql spans)")
	}
	if addr := getenv("FLOWTRACE_REDIS_ADDR"); addr != "" {
		rdb, err := orders.OpenRedis(addr, tel)
		if err != nil {
			return err
		}
		defer rdb.Close()
		svc.Redis = rdb
		fmt.Fprintln(out, "Redis: caching through redisotel")
	} else {
		fmt.Fprintln(out, "Redis: skipped, FLOWTRACE_REDIS_ADDR is not set (no redisotel spans)")
	}

	pricing, err := serve(orders.PricingHandler(tel))
	if err != nil {
		return err
	}
	defer pricing.Close()
	svc.Pricing = orders.NewPricingClient("http://"+pricing.Addr, tel)
	defer svc.Pricing.CloseIdleConnections()
	api, err := serve(svc.Handler())
	if err != nil {
		return err
	}
	defer api.Close()

	// The caller: flowtrace's OpenTracing client, which starts the trace
	// and the flow id.
	client := &http.Client{Transport: tracehttp.NewTransport(nil, tracehttp.WithTracer(tel.Tracer)), Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	body, err := get(ctx, client, "http://"+api.Addr+"/orders/7")
	if err != nil {
		return err
	}
	fmt.Fprint(out, body)

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tracing.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("flushing spans: %w", err)
	}
	if rcv == nil {
		fmt.Fprintf(out, "spans exported to %s\n", tracing.Config().Endpoint)
		return nil
	}
	spans := rcv.Spans()
	fmt.Fprintf(out, "\nThe embedded OTLP receiver got %d spans:\n\n", len(spans))
	return waterfall.Write(out, spans, waterfall.Options{Tags: []string{"db.system", "http.method", "http.request.method", "flow_id"}})
}

func serve(h http.Handler) (*http.Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Addr: lis.Addr().String(), Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	return srv, nil
}

func get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status + ": " + string(b))
	}
	return string(b), nil
}
