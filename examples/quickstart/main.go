// Command quickstart is the smallest traced service: an HTTP API whose
// checkout call fans out to two downstream handlers, one of which fails.
//
// With no OTLP endpoint configured it starts flowtrace's embedded OTLP
// receiver, so it needs no servers, and prints the traces it produced as a
// waterfall. With OTEL_EXPORTER_OTLP_ENDPOINT set (a Jaeger all-in-one, a
// collector), the spans go there instead.
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

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/internal/waterfall"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracetest"
)

func main() {
	// SIGTERM (a pod being stopped) or Ctrl-C cancels ctx instead of
	// killing the process, so run returns through its deferred flush and
	// no queued span is lost. The README's main does the same.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		// os.Exit skips deferred calls: only after run has flushed.
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	opts := []config.Option{config.WithServiceName("quickstart")}
	var rcv *tracetest.Receiver
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		var err error
		if rcv, err = tracetest.NewReceiver(); err != nil {
			return err
		}
		defer rcv.Close()
		opts = append(opts, config.WithEndpoint(rcv.GRPCEndpoint()), config.WithProtocol(config.ProtocolGRPC))
	}
	tracing := flowtrace.Start(ctx, opts...)
	defer tracing.Close() // on every return; after the Shutdown below it only returns its result
	tr := tracing.Tracer()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + lis.Addr().String()
	// One line wraps the client, one line wraps the server.
	client := &http.Client{Transport: tracehttp.NewTransport(nil, tracehttp.WithTracer(tr)), Timeout: 5 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		// The request context holds the server span and the flow id: the
		// calls below become its children and carry the same flow id.
		stock := get(r.Context(), client, base+"/inventory")
		if err := get(r.Context(), client, base+"/payment"); err != nil {
			span := opentracing.SpanFromContext(r.Context())
			span.LogFields(log.String("event", "error"), log.Error(err))
			http.Error(w, "payment failed", http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "ok", stock)
	})
	mux.HandleFunc("GET /inventory", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * time.Millisecond)
		fmt.Fprintln(w, "in stock")
	})
	mux.HandleFunc("GET /payment", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		http.Error(w, "card declined", http.StatusPaymentRequired)
	})
	srv := &http.Server{Handler: tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	defer srv.Close()

	for i := 0; i < 2; i++ {
		if err := get(ctx, client, base+"/checkout"); err != nil {
			fmt.Fprintf(out, "checkout %d: %v\n", i+1, err)
		}
	}

	// A fresh context: ctx is already done after SIGTERM, and the flush
	// must still get its time.
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
	return waterfall.Write(out, spans, waterfall.Options{})
}

// get fetches url and fails on an error status.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		return errors.New(resp.Status)
	}
	return nil
}
