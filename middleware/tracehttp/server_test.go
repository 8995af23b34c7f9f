package tracehttp_test

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "user "+r.PathValue("id"))
	})
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusServiceUnavailable)
	})
	return mux
}

func TestServerSpan(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	var gotSpan opentracing.Span
	var gotFlow string
	mux := newMux()
	mux.HandleFunc("GET /ctx", func(w http.ResponseWriter, r *http.Request) {
		gotSpan = opentracing.SpanFromContext(r.Context())
		gotFlow = flowid.FromContext(r.Context())
	})
	srv := startServer(t, tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)))

	resp, body := get(t, srv.Client(), srv.URL+"/users/42?token=s3cr3t", map[string]string{"User-Agent": "probe/1.0"})
	require.Equal(t, "user 42", body)
	fid := resp.Header.Get(flowid.Header)
	require.True(t, flowid.Valid(fid), "flow id echoed: %q", fid)

	s := rec.wait(t, 1)[0]
	require.Equal(t, "GET /users/{id}", s.Name)
	require.Equal(t, tracer.KindServer, s.Kind)
	requireAttr(t, s, "http.method", "GET")
	requireAttr(t, s, "http.route", "/users/{id}")
	requireAttr(t, s, "http.url", "/users/42")
	requireAttr(t, s, "http.status_code", 200)
	requireAttr(t, s, "http.scheme", "http")
	requireAttr(t, s, "http.host", strings.TrimPrefix(srv.URL, "http://"))
	requireAttr(t, s, "user_agent", "probe/1.0")
	requireAttr(t, s, "component", "net/http")
	requireAttr(t, s, "http.response_size", 7)
	requireAttr(t, s, "peer.ipv4", "127.0.0.1")
	requireAttr(t, s, "flow_id", fid)
	require.Equal(t, tracer.StatusUnset, s.Status)
	require.NotContains(t, dump(s), "s3cr3t")

	rec.reset()
	_, _ = get(t, srv.Client(), srv.URL+"/ctx", nil)
	require.NotNil(t, gotSpan)
	require.True(t, flowid.Valid(gotFlow))
	require.Equal(t, gotFlow, gotSpan.BaggageItem(flowid.BaggageKey))

	rec.reset()
	resp, _ = get(t, srv.Client(), srv.URL+"/fail", nil)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	s = rec.wait(t, 1)[0]
	require.Equal(t, "GET /fail", s.Name)
	require.Equal(t, tracer.StatusError, s.Status)
	requireAttr(t, s, "http.status_code", 503)

	rec.reset()
	resp, err := srv.Client().Post(srv.URL+"/users", "text/plain", strings.NewReader("hello"))
	require.NoError(t, err)
	resp.Body.Close()
	s = rec.wait(t, 1)[0]
	require.Equal(t, "POST /users", s.Name)
	requireAttr(t, s, "http.request_content_length", 5)
	requireAttr(t, s, "http.status_code", 201)
}

func TestServerErrorStatusOption(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	h := tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr),
		tracehttp.WithErrorStatus(func(int) bool { return false }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/fail", nil))
	s := rec.wait(t, 1)[0]
	require.Equal(t, tracer.StatusUnset, s.Status)
}

// TestServerRouteAfterHandler wraps middleware that hides the mux: the span
// starts as "GET" and is renamed from the request's Pattern at the end.
func TestServerRouteAfterHandler(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	mux := newMux()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mux.ServeHTTP(w, r) })
	h := tracehttp.NewHandler(inner, tracehttp.WithTracer(tr))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/users/7", nil))
	s := rec.wait(t, 1)[0]
	require.Equal(t, "GET /users/{id}", s.Name)
	requireAttr(t, s, "http.route", "/users/{id}")

	// Unmatched: the name stays the method.
	rec.reset()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nope/x", nil))
	s = rec.wait(t, 1)[0]
	require.Equal(t, "GET", s.Name)
}

// TestServerRouteBeforeStart checks that the sampler sees the route when a
// ServeMux is wrapped directly or a route option is given.
func TestServerRouteBeforeStart(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 10)
	sampler := samplerFunc(func(p tracer.SamplingParameters) tracer.SamplingDecision {
		seen <- p.Name
		return tracer.SamplingDecision{Sampled: true, Probability: 1}
	})
	tr, _ := newTestTracer(tracer.WithSampler(sampler))

	tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr)).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/users/1", nil))
	require.Equal(t, "GET /users/{id}", <-seen)

	tracehttp.NewHandler(http.NotFoundHandler(), tracehttp.WithTracer(tr),
		tracehttp.WithRoute(func(*http.Request) string { return "/static" })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodDelete, "/static/a/b", nil))
	require.Equal(t, "DELETE /static", <-seen)

	// Wrapped per route inside a mux: the pattern is on the request already.
	mux := http.NewServeMux()
	mux.Handle("PUT /items/{id}", tracehttp.NewHandler(http.NotFoundHandler(), tracehttp.WithTracer(tr)))
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, "/items/9", nil))
	require.Equal(t, "PUT /items/{id}", <-seen)

	tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr),
		tracehttp.WithSpanNameFormatter(func(method, route string, _ *http.Request) string { return "svc " + method + " " + route })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/users/1", nil))
	require.Equal(t, "svc GET /users/{id}", <-seen)
}

type samplerFunc func(tracer.SamplingParameters) tracer.SamplingDecision

func (f samplerFunc) ShouldSample(p tracer.SamplingParameters) tracer.SamplingDecision { return f(p) }
func (f samplerFunc) Description() string                                              { return "test" }

func TestServerUnknownMethod(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	h := tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr))
	req := httptest.NewRequest(http.MethodGet, "/users/1", nil)
	req.Method = "FOO\x1b[31m" // what a hand-made or proxied request may carry
	h.ServeHTTP(httptest.NewRecorder(), req)
	s := rec.wait(t, 1)[0]
	require.Equal(t, "_OTHER", s.Name) // the mux has no FOO route: 405, no pattern
	requireAttr(t, s, "http.method", "_OTHER")
	v, _ := attr(s, "http.method_original")
	require.NotContains(t, v, "\x1b")
}

// TestServerCardinality sends 10,000 random paths and methods through a real
// server: span names stay within the routes times the known methods.
func TestServerCardinality(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	srv := startServer(t, tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr)))
	c := srv.Client()
	methods := []string{"GET", "POST", "PUT", "BREW", "get", "X" + strconv.Itoa(rand.IntN(1000))}
	const n = 10000
	for i := 0; i < n; i++ {
		var path string
		switch i % 3 {
		case 0:
			path = "/users/" + strconv.FormatUint(rand.Uint64(), 36)
		case 1:
			path = "/" + strconv.FormatUint(rand.Uint64(), 36) + "/" + strconv.Itoa(i)
		default:
			path = "/fail/" + strconv.Itoa(i)
		}
		req, err := http.NewRequest(methods[rand.IntN(len(methods))], srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	spans := rec.wait(t, n)
	distinct := map[string]int{}
	for _, s := range spans {
		distinct[s.Name]++
	}
	t.Logf("%d distinct span names: %v", len(distinct), distinct)
	require.LessOrEqual(t, len(distinct), 12)
	for name := range distinct {
		require.NotContains(t, name, "/fail/")
		require.NotRegexp(t, `/users/[0-9a-z]+$`, name)
	}
}

func TestServerFlowID(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	// In process: net/http's client refuses to send some of these values.
	h := tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr))
	do := func(vals ...string) (string, *tracer.SpanData) {
		t.Helper()
		rec.reset()
		req := httptest.NewRequest(http.MethodGet, "/users/1", nil)
		if len(vals) > 0 {
			req.Header["X-Flow-Id"] = vals
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		require.Len(t, w.Header().Values(flowid.Header), 1)
		return w.Header().Get(flowid.Header), rec.wait(t, 1)[0]
	}

	// Valid: echoed and in baggage/tag.
	got, s := do("checkout-123")
	require.Equal(t, "checkout-123", got)
	requireAttr(t, s, "flow_id", "checkout-123")
	_, replaced := attr(s, semconv.FlowIDInvalid.Key())
	require.False(t, replaced)

	// Absent: generated.
	got, s = do()
	require.True(t, flowid.Valid(got))
	requireAttr(t, s, "flow_id", got)
	_, replaced = attr(s, semconv.FlowIDInvalid.Key())
	require.False(t, replaced)

	// Invalid: replaced, and the old value recorded in a safe form.
	for _, bad := range [][]string{
		{"has space"},
		{strings.Repeat("a", 200)},
		{"\x1b[31mred"},
		{"a;b"},
		{"valid-1", "valid-2"},
		{"ünïcode"},
	} {
		got, s = do(bad...)
		require.True(t, flowid.Valid(got), "%q", bad)
		require.NotEqual(t, bad[0], got)
		requireAttr(t, s, "flow_id", got)
		v, ok := attr(s, semconv.FlowIDInvalid.Key())
		require.True(t, ok, "%q", bad)
		require.NotContains(t, v, "\x1b")
		require.LessOrEqual(t, len(v.(string)), flowid.SanitizeLen)
	}
}

func TestServerPublicEndpoint(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	srv := startServer(t, tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr), tracehttp.WithPublicEndpoint()))
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, _ := get(t, srv.Client(), srv.URL+"/users/1", map[string]string{
		"traceparent": tp, "X-Flow-ID": "attacker-chosen", "baggage": "critical_operation=free-money",
	})
	fid := resp.Header.Get(flowid.Header)
	require.True(t, flowid.Valid(fid))
	require.NotEqual(t, "attacker-chosen", fid)

	s := rec.wait(t, 1)[0]
	require.NotEqual(t, "4bf92f3577b34da6a3ce929d0e0e4736", s.SpanContext.TraceID.String())
	require.False(t, s.ParentSpanID.IsValid())
	require.Len(t, s.Links, 1)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", s.Links[0].SpanContext.TraceID.String())
	require.Equal(t, "00f067aa0ba902b7", s.Links[0].SpanContext.SpanID.String())
	requireAttr(t, s, "flow_id", fid)
	requireAttr(t, s, semconv.FlowIDIncoming.Key(), "attacker-chosen")
	_, ok := attr(s, "critical_operation")
	require.False(t, ok)

	// Without incoming context: a root with no link.
	rec.reset()
	_, _ = get(t, srv.Client(), srv.URL+"/users/1", nil)
	s = rec.wait(t, 1)[0]
	require.Empty(t, s.Links)
}

func TestServerFilter(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	var ran bool
	var ctxFlow string
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ran = true
		ctxFlow = flowid.FromContext(r.Context())
		require.Nil(t, opentracing.SpanFromContext(r.Context()))
	})
	h := tracehttp.NewHandler(mux, tracehttp.WithTracer(tr),
		tracehttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }))
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set(flowid.Header, "probe-1")
	h.ServeHTTP(w, req)
	require.True(t, ran)
	require.Equal(t, "probe-1", w.Header().Get(flowid.Header))
	require.Equal(t, "probe-1", ctxFlow)
	require.Empty(t, rec.all())
	require.Zero(t, tr.Stats().Started)

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.True(t, flowid.Valid(w.Header().Get(flowid.Header)))
}

func TestServerTagsAndCriticalOperation(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	var bag string
	mux := http.NewServeMux()
	mux.HandleFunc("/pay", func(w http.ResponseWriter, r *http.Request) {
		bag = opentracing.SpanFromContext(r.Context()).BaggageItem("critical_operation")
	})
	h := tracehttp.NewHandler(mux, tracehttp.WithTracer(tr),
		tracehttp.WithTags(func(r *http.Request) opentracing.Tags { return opentracing.Tags{"tenant": "acme"} }),
		tracehttp.WithCriticalOperation(func(r *http.Request) string {
			if r.URL.Path == "/pay" {
				return "checkout"
			}
			return ""
		}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/pay", nil))
	s := rec.wait(t, 1)[0]
	requireAttr(t, s, "tenant", "acme")
	requireAttr(t, s, "critical_operation", "checkout")
	require.Equal(t, "checkout", bag)
}

func TestServerPanic(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	mux := newMux()
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic("kaboom \x1b[2J") })
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	srv := startServer(t, tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)))

	_, err := srv.Client().Get(srv.URL + "/panic")
	require.Error(t, err) // net/http closes the connection
	s := rec.wait(t, 1)[0]
	require.Equal(t, "GET /panic", s.Name)
	require.Equal(t, tracer.StatusError, s.Status)
	require.Len(t, s.Events, 1)
	ev := map[string]any{}
	for _, a := range s.Events[0].Attributes {
		ev[a.Key] = a.Value
	}
	require.Equal(t, "error", s.Events[0].Name)
	require.Equal(t, "panic", ev["error.kind"])
	require.Equal(t, "kaboom ?[2J", ev["message"])
	require.Contains(t, ev["stack"], "TestServerPanic")

	// The server keeps serving.
	resp, body := get(t, srv.Client(), srv.URL+"/users/5", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "user 5", body)

	rec.reset()
	_, err = srv.Client().Get(srv.URL + "/abort")
	require.Error(t, err)
	s = rec.wait(t, 1)[0]
	require.Equal(t, "GET /abort", s.Name)
	require.Equal(t, tracer.StatusUnset, s.Status)
	require.Equal(t, "abort", s.Events[0].Name)
}

// TestServerPanicRepanics checks the panic reaches the caller unchanged.
func TestServerPanicRepanics(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	type myPanic struct{ n int }
	h := tracehttp.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(myPanic{7}) }), tracehttp.WithTracer(tr))
	func() {
		defer func() { require.Equal(t, myPanic{7}, recover()) }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	require.Len(t, rec.all(), 1)
}

func TestServerHijack(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no hijacker", http.StatusInternalServerError)
			return
		}
		conn, bw, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = bw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = bw.Flush()
		line, _ := bw.ReadString('\n')
		_, _ = bw.WriteString("echo:" + line)
		_ = bw.Flush()
	})
	srv := startServer(t, tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)))

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	_, err = io.WriteString(conn, "hello\n")
	require.NoError(t, err)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "echo:hello\n", line)

	s := rec.wait(t, 1)[0]
	require.Equal(t, "GET /ws", s.Name)
	requireAttr(t, s, semconv.HTTPHijacked.Key(), true)
	_, ok := attr(s, "http.status_code")
	require.False(t, ok)
}

// TestServerKeepsInterfaces checks that the wrapped writer offers exactly
// the optional interfaces of the original, and that ResponseController
// reaches the original through Unwrap.
func TestServerKeepsInterfaces(t *testing.T) {
	t.Parallel()
	tr, _ := newTestTracer()
	type ifaces struct{ flusher, hijacker, readerFrom, pusher, stringWriter bool }
	probe := func(w http.ResponseWriter) ifaces {
		_, f := w.(http.Flusher)
		_, h := w.(http.Hijacker)
		_, rf := w.(io.ReaderFrom)
		_, p := w.(http.Pusher)
		_, sw := w.(io.StringWriter)
		return ifaces{f, h, rf, p, sw}
	}
	for _, proto := range []string{"http1", "http2"} {
		t.Run(proto, func(t *testing.T) {
			var bare, wrapped ifaces
			var rcErr error
			inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wrapped = probe(w)
				rcErr = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
				f, _ := w.(io.ReaderFrom)
				if f != nil {
					_, _ = f.ReadFrom(strings.NewReader("from"))
				} else {
					_, _ = io.WriteString(w, "from")
				}
			})
			h := tracehttp.NewHandler(inner, tracehttp.WithTracer(tr))
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				bare = probe(w)
				h.ServeHTTP(w, r)
			})
			srv := httptest.NewUnstartedServer(outer)
			if proto == "http2" {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			resp, body := get(t, srv.Client(), srv.URL+"/", nil)
			require.Equal(t, "from", body)
			if proto == "http2" {
				require.Equal(t, 2, resp.ProtoMajor)
			}
			require.Equal(t, bare, wrapped)
			require.NoError(t, rcErr)
			require.True(t, wrapped.flusher)
		})
	}
}

// TestServerNonFlowtraceTracer uses the OpenTracing mocktracer: the
// middleware reads and writes X-Flow-ID itself.
func TestServerNonFlowtraceTracer(t *testing.T) {
	t.Parallel()
	mt := newMockTracer()
	var bag string
	h := tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bag = opentracing.SpanFromContext(r.Context()).BaggageItem("flow_id")
	}), tracehttp.WithTracer(mt))
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set(flowid.Header, "from-edge")
	h.ServeHTTP(w, req)
	require.Equal(t, "from-edge", w.Header().Get(flowid.Header))
	require.Equal(t, "from-edge", bag)
	spans := mt.FinishedSpans()
	require.Len(t, spans, 1)
	require.Equal(t, "from-edge", spans[0].Tag("flow_id"))
	require.Equal(t, "GET", spans[0].OperationName)

	w = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set(flowid.Header, "bad value\r\n")
	h.ServeHTTP(w, req)
	got := w.Header().Get(flowid.Header)
	require.True(t, flowid.Valid(got))
	spans = mt.FinishedSpans()
	require.Equal(t, got, spans[1].Tag("flow_id"))
	require.NotEmpty(t, spans[1].Tag(semconv.FlowIDInvalid.Key()))
}

func TestServerGlobalTracerDefault(t *testing.T) {
	tr, rec := newTestTracer()
	prev := opentracing.GlobalTracer()
	t.Cleanup(func() { opentracing.SetGlobalTracer(prev) })
	h := tracehttp.NewHandler(newMux()) // built before the global is set
	opentracing.SetGlobalTracer(tr)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/users/1", nil))
	require.Len(t, rec.all(), 1)
}

// TestServerCardinalityEveryMethod is the CONNECT case from the field: for
// CONNECT, ServeMux.Handler returns the redirect target (the raw path plus
// "/") as the pattern when a subtree pattern such as /users/{id}/ would
// match after a trailing-slash redirect. Every method, through a real
// server, with the mux wrapped directly, behind other middleware, and with
// the pattern already on the request: span names and routes stay bounded.
func TestServerCardinalityEveryMethod(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/users/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/static/", func(w http.ResponseWriter, r *http.Request) {})
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "BREW"}
	for _, wrap := range []struct {
		name string
		h    func(tr *tracer.Tracer) http.Handler
	}{
		{"mux", func(tr *tracer.Tracer) http.Handler { return tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)) }},
		{"behind middleware", func(tr *tracer.Tracer) http.Handler {
			return tracehttp.NewHandler(http.HandlerFunc(mux.ServeHTTP), tracehttp.WithTracer(tr))
		}},
		{"pattern on the request", func(tr *tracer.Tracer) http.Handler {
			outer := http.NewServeMux()
			outer.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, r.Pattern = mux.Handler(r)
				tracehttp.NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), tracehttp.WithTracer(tr)).ServeHTTP(w, r)
			}))
			return outer
		}},
	} {
		t.Run(wrap.name, func(t *testing.T) {
			tr, rec := newTestTracer()
			srv := startServer(t, wrap.h(tr))
			c := srv.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			const perMethod = 100
			for _, m := range methods {
				for i := 0; i < perMethod; i++ {
					id := strconv.FormatUint(rand.Uint64(), 36) + "-" + strconv.Itoa(i)
					path := "/users/" + id // no trailing slash: a redirect to /users/{id}/
					switch i % 4 {
					case 1, 3:
						path = "/static/" + id
					case 2:
						path += "%2F" // a path that ends in "/" only once unescaped
					}
					req, err := http.NewRequest(m, srv.URL+path, nil)
					require.NoError(t, err)
					resp, err := c.Do(req)
					require.NoError(t, err)
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			spans := rec.wait(t, perMethod*len(methods))
			distinct := map[string]int{}
			routes := map[string]int{}
			for _, s := range spans {
				distinct[s.Name]++
				if v, ok := attr(s, "http.route"); ok {
					routes[fmt.Sprint(v)]++
				}
			}
			t.Logf("%d distinct span names: %v; routes %v", len(distinct), distinct, routes)
			// Each method: at most its bare name, one name per pattern.
			require.LessOrEqual(t, len(distinct), 3*len(methods))
			require.LessOrEqual(t, len(routes), 2)
			for name := range distinct {
				require.NotRegexp(t, `/users/[0-9a-z]+-[0-9]+`, name)
			}
			for route := range routes {
				require.Contains(t, []string{"/users/{id}/", "/static/"}, route)
			}
		})
	}
}
