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
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/log"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/internal/waterfall"
	"github.com/flowtrace/flowtrace/tracetest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
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
	tr := tracing.Tracer()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + lis.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	mux := http.NewServeMux()
	mux.Handle("GET /checkout", traced(tr, "GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		span := opentracing.SpanFromContext(r.Context())
		stock := call(r.Context(), tr, client, base+"/inventory")
		payment := call(r.Context(), tr, client, base+"/payment")
		if payment != nil {
			span.LogFields(log.String("event", "error"), log.Error(payment))
			http.Error(w, "payment failed", http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "ok", stock)
	}))
	mux.Handle("GET /inventory", traced(tr, "GET /inventory", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(3 * time.Millisecond)
		fmt.Fprintln(w, "in stock")
	}))
	mux.Handle("GET /payment", traced(tr, "GET /payment", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		http.Error(w, "card declined", http.StatusPaymentRequired)
	}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	defer srv.Close()

	for i := 0; i < 2; i++ {
		if err := call(ctx, tr, client, base+"/checkout"); err != nil {
			fmt.Fprintf(out, "checkout %d: %v\n", i+1, err)
		}
	}

	shutdownCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
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

// traced is a hand-rolled server middleware: Extract, start a server span,
// put it in the request context.
func traced(tr opentracing.Tracer, name string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parent, _ := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(r.Header))
		span := tr.StartSpan(name, ext.RPCServerOption(parent))
		defer span.Finish()
		ext.HTTPMethod.Set(span, r.Method)
		ext.HTTPUrl.Set(span, r.URL.Path)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h(rec, r.WithContext(opentracing.ContextWithSpan(r.Context(), span)))
		ext.HTTPStatusCode.Set(span, uint16(rec.status))
		if rec.status >= 500 {
			ext.Error.Set(span, true)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// call is a hand-rolled client: a client span, injected into a copy of the
// request's headers.
func call(ctx context.Context, tr opentracing.Tracer, client *http.Client, url string) error {
	var parent opentracing.SpanContext
	if p := opentracing.SpanFromContext(ctx); p != nil {
		parent = p.Context()
	}
	span := tr.StartSpan("GET", opentracing.ChildOf(parent), ext.SpanKindRPCClient)
	defer span.Finish()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	ext.HTTPMethod.Set(span, req.Method)
	ext.HTTPUrl.Set(span, req.URL.Path)
	_ = tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(req.Header))
	resp, err := client.Do(req)
	if err != nil {
		ext.Error.Set(span, true)
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	ext.HTTPStatusCode.Set(span, uint16(resp.StatusCode))
	if resp.StatusCode >= 400 {
		ext.Error.Set(span, true)
		return errors.New(resp.Status)
	}
	return nil
}
