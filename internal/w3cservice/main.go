// Command w3cservice is the test service the W3C Trace Context suite
// (github.com/w3c/trace-context, test/) drives: it uses nothing but
// flowtrace.Start and the OpenTracing API, as a service would.
//
// The harness POSTs a JSON list of {"url", "arguments"} actions; for each,
// the service starts a span as a child of the incoming request's context
// and POSTs the arguments to the url with the span's context injected.
//
// Run it, then the suite from its test/ directory (Python 3 and aiohttp):
//
//	OTEL_TRACES_EXPORTER=none go run ./internal/w3cservice -addr 127.0.0.1:5000 &
//	SPEC_LEVEL=2 STRICT_LEVEL=2 python3 test.py http://127.0.0.1:5000/test
//
// CI does not fetch the suite; propagation's TestW3CSuiteCases carries its
// cases.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace"
)

type action struct {
	URL       string          `json:"url"`
	Arguments json.RawMessage `json:"arguments"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5000", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tracing := flowtrace.Start(ctx)
	defer tracing.Close()

	client := &http.Client{Timeout: 10 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /test", func(w http.ResponseWriter, r *http.Request) {
		var actions []action
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&actions); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tr := opentracing.GlobalTracer()
		var opts []opentracing.StartSpanOption
		if parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(r.Header)); err == nil {
			opts = append(opts, opentracing.ChildOf(parent))
		}
		for _, a := range actions {
			span := tr.StartSpan("callback", opts...)
			body := a.Arguments
			if len(body) == 0 {
				body = json.RawMessage("[]")
			}
			req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, a.URL, bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				_ = tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(req.Header))
				var resp *http.Response
				if resp, err = client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			}
			if err != nil {
				span.SetTag("error", true)
			}
			span.Finish()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
