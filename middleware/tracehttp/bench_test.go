package tracehttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

type discardProcessor struct{}

func (discardProcessor) OnEnd(*tracer.SpanData)           {}
func (discardProcessor) ForceFlush(context.Context) error { return nil }
func (discardProcessor) Shutdown(context.Context) error   { return nil }

func twoBytes(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// benchServe serves one request per iteration in process: the handler
// writes two bytes into an httptest.ResponseRecorder.
func benchServe(b *testing.B, h http.Handler, hdr map[string]string) {
	req := httptest.NewRequest(http.MethodGet, "/users/42?x=1", nil)
	req.RemoteAddr = "10.1.2.3:4567"
	req.Header.Set("User-Agent", "bench/1.0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
	}
}

// BenchmarkServerOverhead compares a bare handler with the wrapped one.
func BenchmarkServerOverhead(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", twoBytes)
	sampled := tracer.New(tracer.WithProcessor(discardProcessor{}), tracer.WithPropagator(propagation.Default()))
	unsampled := tracer.New(tracer.WithSampler(tracer.AlwaysOff()), tracer.WithPropagator(propagation.Default()))
	incoming := map[string]string{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"X-Flow-ID":   "checkout-123",
	}
	b.Run("bare", func(b *testing.B) { benchServe(b, mux, nil) })
	b.Run("flowtrace/root", func(b *testing.B) {
		benchServe(b, tracehttp.NewHandler(mux, tracehttp.WithTracer(sampled)), nil)
	})
	b.Run("flowtrace/child", func(b *testing.B) {
		benchServe(b, tracehttp.NewHandler(mux, tracehttp.WithTracer(sampled)), incoming)
	})
	b.Run("flowtrace/unsampled", func(b *testing.B) {
		benchServe(b, tracehttp.NewHandler(mux, tracehttp.WithTracer(unsampled)), incoming)
	})
	b.Run("flowtrace/filtered", func(b *testing.B) {
		benchServe(b, tracehttp.NewHandler(mux, tracehttp.WithTracer(sampled),
			tracehttp.WithFilter(func(*http.Request) bool { return false })), incoming)
	})
}

// BenchmarkClientOverhead measures a loopback round trip, bare and traced.
func BenchmarkClientOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(twoBytes))
	defer srv.Close()
	tr := tracer.New(tracer.WithProcessor(discardProcessor{}), tracer.WithPropagator(propagation.Default()))
	run := func(b *testing.B, c *http.Client) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			resp, err := c.Get(srv.URL + "/x")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, srv.Client()) })
	b.Run("flowtrace", func(b *testing.B) { run(b, tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))) })
	b.Run("flowtrace/both-sides", func(b *testing.B) {
		srv2 := httptest.NewServer(tracehttp.NewHandler(http.HandlerFunc(twoBytes), tracehttp.WithTracer(tr)))
		defer srv2.Close()
		c := tracehttp.WrapClient(srv2.Client(), tracehttp.WithTracer(tr))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			resp, err := c.Get(srv2.URL + "/x")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// TestServerAllocs pins the allocations the middleware adds to a sampled
// request with incoming trace context (see BenchmarkServerOverhead).
func TestServerAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", twoBytes)
	tr := tracer.New(tracer.WithProcessor(discardProcessor{}), tracer.WithPropagator(propagation.Default()))
	h := tracehttp.NewHandler(mux, tracehttp.WithTracer(tr))
	req := httptest.NewRequest(http.MethodGet, "/users/42", nil)
	req.RemoteAddr = "10.1.2.3:4567"
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("X-Flow-ID", "checkout-123")
	bare := testing.AllocsPerRun(200, func() { mux.ServeHTTP(httptest.NewRecorder(), req) })
	wrapped := testing.AllocsPerRun(200, func() { h.ServeHTTP(httptest.NewRecorder(), req) })
	t.Logf("bare %.0f allocs, wrapped %.0f allocs: +%.0f", bare, wrapped, wrapped-bare)
	// 10 since the start options stay on the stack, methods, routes,
	// hosts and user agents are boxed once, the X-Flow-ID value lives in
	// the writer wrapper, the flow id's baggage item comes with its
	// context and the span has room for its tags (17 before).
	if wrapped-bare > 10 {
		t.Fatalf("middleware adds %.0f allocations per request, want at most 10", wrapped-bare)
	}
}

// stubTransport answers every request with "ok".
type stubTransport struct{}

func (stubTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("ok"))}, nil
}

// TestClientAllocs pins the allocations of a sampled client request
// without a parent span, its body read to the end, through a stub
// transport (see BenchmarkClientOverhead).
func TestClientAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	tr := tracer.New(tracer.WithProcessor(discardProcessor{}), tracer.WithPropagator(propagation.Default()))
	rt := tracehttp.NewTransport(stubTransport{}, tracehttp.WithTracer(tr))
	req := httptest.NewRequest(http.MethodGet, "http://example.com:8080/users/42", nil)
	req.RequestURI = ""
	allocs := testing.AllocsPerRun(200, func() {
		resp, _ := rt.RoundTrip(req)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	})
	t.Logf("traced round trip: %.0f allocs", allocs)
	// 18, the stub's response and body included: 19 before the span had
	// room for its 9 tags (AttributeRoom).
	if allocs > 18 {
		t.Fatalf("%.0f allocations per request, want at most 18", allocs)
	}
}
