package tracehttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// Wrap a ServeMux: spans are named by the matched pattern ("GET
// /orders/{id}"), and the flow id is in every request's context. The edge
// names the critical user operation of its routes; the name travels in
// baggage to every downstream service.
func Example_server() {
	tr := tracer.New(tracer.WithPropagator(propagation.Default())) // add tracer.WithProcessor(...) to export

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		span := opentracing.SpanFromContext(r.Context())
		fmt.Fprintf(w, "order %s, flow %s, %s", r.PathValue("id"), flowid.FromContext(r.Context()),
			semconv.FromBaggage(span).CriticalOperation)
	})
	handler := tracehttp.NewHandler(mux,
		tracehttp.WithTracer(tr),
		tracehttp.WithCriticalOperation(func(r *http.Request) string {
			if _, pattern := mux.Handler(r); pattern == "GET /orders/{id}" {
				return "order-status"
			}
			return ""
		}),
		tracehttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }),
	)

	req := httptest.NewRequest(http.MethodGet, "/orders/42", nil)
	req.Header.Set("X-Flow-ID", "checkout-7")
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	fmt.Println(w.Body.String())
	fmt.Println("X-Flow-ID:", w.Header().Get("X-Flow-ID"))
	// Output:
	// order 42, flow checkout-7, order-status
	// X-Flow-ID: checkout-7
}

// Wrap a client: each request gets a client span, child of the span in its
// context, and carries the trace context and flow id to the server.
func Example_client() {
	tr := tracer.New(tracer.WithPropagator(propagation.Default()))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "flow %s, traced %t", r.Header.Get("X-Flow-ID"), r.Header.Get("traceparent") != "")
	}))
	defer srv.Close()

	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))

	parent := tr.StartSpan("checkout")
	defer parent.Finish()
	ctx := opentracing.ContextWithSpan(context.Background(), parent)
	ctx = flowid.ContextWith(ctx, "checkout-7")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stock?sku=1", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close() // ends the client span (so does reading to EOF)
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// flow checkout-7, traced true
}
