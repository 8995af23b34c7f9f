package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opentracing-contrib/go-stdlib/nethttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
)

// w3c is the propagator given explicitly to the OTel instrumentations: with
// the global default (a no-op) they would skip propagation altogether, which
// is less work than the OpenTracing middlewares do.
var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// twoBytes is the application: a handler writing two bytes, behind a
// ServeMux route so that every middleware can name the span by route.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	return mux
}

// httpCase is one way of serving (and, on loopback, calling) the mux.
type httpCase struct {
	name string
	// setup returns the server handler, the client transport wrapping base
	// (nil: base itself), a per-request wrapper for the client (nil: none)
	// and a cleanup.
	setup func(tb testing.TB, h http.Handler, base http.RoundTripper) (http.Handler, http.RoundTripper, func(*http.Request) (*http.Request, func()), func())
}

var httpCases = []httpCase{
	{"bare", func(_ testing.TB, h http.Handler, base http.RoundTripper) (http.Handler, http.RoundTripper, func(*http.Request) (*http.Request, func()), func()) {
		return h, base, nil, func() {}
	}},
	{"flowtrace", func(tb testing.TB, h http.Handler, base http.RoundTripper) (http.Handler, http.RoundTripper, func(*http.Request) (*http.Request, func()), func()) {
		tr, done := flowtraceOTLP(tb)
		return tracehttp.NewHandler(h, tracehttp.WithTracer(tr)), tracehttp.NewTransport(base, tracehttp.WithTracer(tr)), nil, done
	}},
	{"nethttp-jaeger", func(tb testing.TB, h http.Handler, base http.RoundTripper) (http.Handler, http.RoundTripper, func(*http.Request) (*http.Request, func()), func()) {
		tr, done := jaegerNull(tb)
		// go-stdlib's client needs TraceRequest around every request; it
		// starts a root "HTTP Client" span and a child per round trip.
		wrap := func(r *http.Request) (*http.Request, func()) {
			r, ht := nethttp.TraceRequest(tr, r)
			return r, ht.Finish
		}
		return nethttp.Middleware(tr, h), &nethttp.Transport{RoundTripper: base}, wrap, done
	}},
	{"otelhttp-sdk", func(tb testing.TB, h http.Handler, base http.RoundTripper) (http.Handler, http.RoundTripper, func(*http.Request) (*http.Request, func()), func()) {
		tp := otelProvider(discardSpanExporter{})
		opts := []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(w3c)}
		return otelhttp.NewHandler(h, "server", opts...), otelhttp.NewTransport(base, opts...), nil, func() { shutdown(tb, tp.Shutdown) }
	}},
}

// BenchmarkHTTPServer serves one request per iteration in process: the
// request goes through the middleware into a ServeMux whose handler writes
// two bytes into an httptest.ResponseRecorder. No incoming trace context:
// every request starts a root server span. The overhead of a middleware is
// its ns/op and allocs/op minus those of "bare" (cmd/report computes it).
func BenchmarkHTTPServer(b *testing.B) {
	for _, c := range httpCases {
		b.Run(c.name, func(b *testing.B) {
			h, _, _, done := c.setup(b, newMux(), http.DefaultTransport)
			defer done()
			req := httptest.NewRequest(http.MethodGet, "/users/42", nil)
			req.RemoteAddr = "10.1.2.3:4567"
			req.Header.Set("User-Agent", "bench/1.0")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkHTTPLoopback makes sequential GETs over loopback TCP, keep-alive,
// with both the client transport and the server handler traced (the
// server span is a child of the client span). It reports requests per
// second; the ratio to "bare" (untraced) is the target.
func BenchmarkHTTPLoopback(b *testing.B) {
	for _, c := range httpCases {
		b.Run(c.name, func(b *testing.B) {
			base := &http.Transport{MaxIdleConnsPerHost: 4}
			defer base.CloseIdleConnections()
			h, rt, wrap, done := c.setup(b, newMux(), base)
			defer done()
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := &http.Client{Transport: rt}
			url := srv.URL + "/users/42"
			get := func() {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				finish := func() {}
				if wrap != nil {
					req, finish = wrap(req)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				finish()
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.Status)
				}
			}
			get() // connect outside the measurement
			b.ReportAllocs()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
