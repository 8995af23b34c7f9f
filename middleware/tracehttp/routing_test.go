package tracehttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// TestServerRouting: which critical operation and traffic source a server
// span ends up with, and whether the edge forced sampling (the tracer's
// root sampler is off, so only a forced span is recorded).
func TestServerRouting(t *testing.T) {
	t.Parallel()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" // not sampled
	checkout := tracehttp.WithCriticalOperation(func(r *http.Request) string {
		if r.URL.Path == "/checkout" {
			return "checkout"
		}
		return ""
	})
	for _, tc := range []struct {
		name     string
		opts     []tracehttp.Option
		path     string
		hdr      map[string]string
		sampled  bool
		op, src  string // in the handler's baggage
		requests int
	}{
		{"public critical route is forced", []tracehttp.Option{tracehttp.WithPublicEndpoint(), checkout},
			"/checkout", nil, true, "checkout", "unknown", 1}, // was "web" (issue 17: one default, as tracegrpc)
		{"public: hostile baggage ignored", []tracehttp.Option{tracehttp.WithPublicEndpoint(), checkout},
			"/checkout", map[string]string{"traceparent": tp, "baggage": "critical_operation=free,traffic_source=load-test"},
			true, "checkout", "unknown", 1}, // was "web"
		{"public: X-Traffic-Source", []tracehttp.Option{tracehttp.WithPublicEndpoint(), checkout},
			"/checkout", map[string]string{"X-Traffic-Source": "load-test"}, true, "checkout", "load-test", 1},
		{"public: bad X-Traffic-Source is unknown", []tracehttp.Option{tracehttp.WithPublicEndpoint(), checkout},
			"/checkout", map[string]string{"X-Traffic-Source": "robots"}, true, "checkout", "unknown", 1},
		{"public: other route not forced", []tracehttp.Option{tracehttp.WithPublicEndpoint(), checkout},
			"/other", nil, false, "", "unknown", 1}, // was "web"
		{"custom traffic rule", []tracehttp.Option{tracehttp.WithPublicEndpoint(), checkout,
			tracehttp.WithTrafficSource(func(*http.Request) string { return "app" })},
			"/checkout", nil, true, "checkout", "app", 1},
		{"trusted caller: baggage kept, parent's sampling followed", []tracehttp.Option{checkout},
			"/checkout", map[string]string{"traceparent": tp, "baggage": "critical_operation=add-to-cart,traffic_source=app"},
			false, "add-to-cart", "app", 1},
		{"trusted caller without baggage: rule applies and forces", []tracehttp.Option{checkout},
			"/checkout", map[string]string{"traceparent": tp}, true, "checkout", "", 1},
		{"no options: nothing set", nil, "/checkout", nil, false, "", "", 1},
		{"rate cap: second request not forced", []tracehttp.Option{tracehttp.WithPublicEndpoint(), checkout,
			tracehttp.WithCriticalSampling(1)}, "/checkout", nil, false, "checkout", "unknown", 2}, // was "web"
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, rec := newTestTracer(tracer.WithSampler(tracer.ParentBased(tracer.AlwaysOff())))
			var got semconv.Routing
			var sampled bool
			h := tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sp := opentracing.SpanFromContext(r.Context())
				got = semconv.FromBaggage(sp)
				sampled = sp.Context().(*tracer.SpanContext).IsSampled()
			}), append([]tracehttp.Option{tracehttp.WithTracer(tr)}, tc.opts...)...)
			for range tc.requests {
				req := httptest.NewRequest(http.MethodGet, tc.path, nil)
				for k, v := range tc.hdr {
					req.Header.Set(k, v)
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			require.Equal(t, semconv.Routing{CriticalOperation: tc.op, TrafficSource: tc.src}, got)
			require.Equal(t, tc.sampled, sampled)
			if !tc.sampled {
				return
			}
			s := rec.wait(t, 1)[0]
			requireAttr(t, s, "critical_operation", tc.op)
			if tc.src != "" {
				requireAttr(t, s, "traffic_source", tc.src)
			}
		})
	}
}

// TestRoutingOtherTracer: with a tracer that does not copy baggage to
// tags, the middleware tags server and client spans itself, and the
// sampling.priority start tag reaches the tracer.
func TestRoutingOtherTracer(t *testing.T) {
	t.Parallel()
	mt := mocktracer.New()
	var downstream *http.Request
	backend := startServer(t, tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downstream = r
	}), tracehttp.WithTracer(mt)))
	client := tracehttp.WrapClient(backend.Client(), tracehttp.WithTracer(mt))
	edge := tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL+"/stock", nil)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}), tracehttp.WithTracer(mt), tracehttp.WithPublicEndpoint(),
		tracehttp.WithCriticalOperation(func(*http.Request) string { return "checkout" }))
	req := httptest.NewRequest(http.MethodPost, "/checkout", nil)
	req.Header.Set("X-Traffic-Source", "app")
	edge.ServeHTTP(httptest.NewRecorder(), req)
	require.NotNil(t, downstream)
	require.Contains(t, downstream.Header.Get("Mockpfx-Baggage-Critical_operation"), "checkout")

	spans := mt.FinishedSpans()
	require.Len(t, spans, 3)
	for _, s := range spans {
		require.Equal(t, "checkout", s.Tag("critical_operation"), s.OperationName)
		require.Equal(t, "app", s.Tag("traffic_source"), s.OperationName)
	}
	var edgeSpan *mocktracer.MockSpan
	for _, s := range spans {
		if s.OperationName == "POST" {
			edgeSpan = s
		}
	}
	require.NotNil(t, edgeSpan)
	require.Equal(t, 1, edgeSpan.Tag("sampling.priority"))
}
