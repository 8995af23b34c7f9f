package tracehttp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
)

func TestClientServerParentChild(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	var serverFlow string
	mux := newMux()
	mux.HandleFunc("GET /flow", func(w http.ResponseWriter, r *http.Request) {
		serverFlow = flowid.FromContext(r.Context())
	})
	srv := startServer(t, tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)))
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))

	parent := tr.StartSpan("parent")
	ctx := opentracing.ContextWithSpan(context.Background(), parent)
	ctx = flowid.ContextWith(ctx, "flow-abc")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/flow", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	parent.Finish()
	require.Equal(t, "flow-abc", resp.Header.Get(flowid.Header))
	require.Equal(t, "flow-abc", serverFlow)

	spans := rec.wait(t, 3)
	cs := byKind(t, spans, tracer.KindClient)
	ss := byKind(t, spans, tracer.KindServer)
	ps := parent.Context().(*tracer.SpanContext)
	require.Equal(t, "GET", cs.Name)
	require.Equal(t, "GET /flow", ss.Name)
	require.Equal(t, ps.TraceID(), cs.SpanContext.TraceID)
	require.Equal(t, ps.SpanID(), cs.ParentSpanID)
	require.Equal(t, cs.SpanContext.TraceID, ss.SpanContext.TraceID)
	require.Equal(t, cs.SpanContext.SpanID, ss.ParentSpanID)
	requireAttr(t, cs, "http.url", srv.URL+"/flow")
	requireAttr(t, cs, "http.status_code", 200)
	requireAttr(t, cs, "peer.hostname", "127.0.0.1")
	requireAttr(t, cs, "flow_id", "flow-abc")
	requireAttr(t, ss, "flow_id", "flow-abc")
}

func TestClientNoParentStartsRoot(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	srv := startServer(t, newMux())
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr),
		tracehttp.WithRoute(func(*http.Request) string { return "/users/{id}" }))
	resp, _ := get(t, client, srv.URL+"/users/1", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	s := rec.wait(t, 1)[0]
	require.Equal(t, "GET /users/{id}", s.Name)
	require.False(t, s.ParentSpanID.IsValid())
	require.Equal(t, tracer.KindClient, s.Kind)
}

func TestClientDoesNotMutateRequest(t *testing.T) {
	t.Parallel()
	tr, _ := newTestTracer()
	var seen http.Header
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }))
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))
	parent := tr.StartSpan("parent")
	defer parent.Finish()
	ctx := opentracing.ContextWithSpan(context.Background(), parent)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain")
	before := req.Header.Clone()
	url := req.URL.String()
	for i := 0; i < 2; i++ { // a retry with the same request must not pile up headers
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, before, req.Header)
		require.Equal(t, url, req.URL.String())
		require.Len(t, seen.Values("Traceparent"), 1)
	}
	require.Same(t, ctx, req.Context())
}

func TestClientBodyPartlyReadThenClosed(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	big := strings.Repeat("x", 256<<10)
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, big) }))
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))

	resp, err := client.Get(srv.URL + "/big")
	require.NoError(t, err)
	buf := make([]byte, 10)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	require.Empty(t, rec.all(), "span ended before the body was done")
	require.NoError(t, resp.Body.Close())
	require.NoError(t, resp.Body.Close())
	_, _ = resp.Body.Read(buf)
	s := rec.wait(t, 1)[0]
	require.Equal(t, tracer.KindClient, s.Kind)
	require.Equal(t, tracer.StatusUnset, s.Status)
	time.Sleep(20 * time.Millisecond)
	require.Len(t, rec.all(), 1)
	require.EqualValues(t, 1, tr.Stats().Finished)

	// Read to EOF, then Close: still one span.
	rec.reset()
	resp, err = client.Get(srv.URL + "/big")
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.EqualValues(t, len(big), n)
	s = rec.wait(t, 1)[0]
	requireAttr(t, s, "http.response_size", len(big))
	require.NoError(t, resp.Body.Close())
	require.Len(t, rec.all(), 1)
	require.EqualValues(t, 2, tr.Stats().Finished)
}

func TestClientRedirectHops(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	mux := http.NewServeMux()
	mux.Handle("/a", http.RedirectHandler("/b", http.StatusFound))
	mux.Handle("/b", http.RedirectHandler("/c", http.StatusTemporaryRedirect))
	mux.HandleFunc("/c", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "done") })
	srv := startServer(t, tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)))
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))

	parent := tr.StartSpan("parent")
	ctx := opentracing.ContextWithSpan(context.Background(), parent)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/a", nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "done", string(b))
	parent.Finish()

	spans := rec.wait(t, 7)
	var clients, servers []*tracer.SpanData
	for _, s := range spans {
		switch s.Kind {
		case tracer.KindClient:
			clients = append(clients, s)
		case tracer.KindServer:
			servers = append(servers, s)
		}
	}
	require.Len(t, clients, 3)
	require.Len(t, servers, 3)
	var urls []string
	for _, c := range clients {
		require.Equal(t, parent.Context().(*tracer.SpanContext).SpanID(), c.ParentSpanID)
		v, _ := attr(c, "http.url")
		urls = append(urls, v.(string))
	}
	require.ElementsMatch(t, []string{srv.URL + "/a", srv.URL + "/b", srv.URL + "/c"}, urls)
	for _, s := range servers {
		found := false
		for _, c := range clients {
			found = found || c.SpanContext.SpanID == s.ParentSpanID
		}
		require.True(t, found, "server span %q has no client parent", s.Name)
	}
	// Redirects are not errors.
	for _, c := range clients {
		require.Equal(t, tracer.StatusUnset, c.Status)
	}
}

func TestClientErrorStatus(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	srv := startServer(t, http.NotFoundHandler())
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))
	resp, _ := get(t, client, srv.URL+"/missing", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	s := rec.wait(t, 1)[0]
	require.Equal(t, tracer.StatusError, s.Status)
	requireAttr(t, s, "http.status_code", 404)
}

func TestClientCancellation(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	release := make(chan struct{})
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			_, _ = io.WriteString(w, "first\n")
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr))

	t.Run("before response", func(t *testing.T) {
		rec.reset()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := client.Do(req)
		require.ErrorIs(t, err, context.Canceled)
		s := rec.wait(t, 1)[0]
		require.Equal(t, tracer.StatusError, s.Status)
	})
	t.Run("while reading body", func(t *testing.T) {
		rec.reset()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/stream", nil)
		resp, err := client.Do(req)
		require.NoError(t, err)
		buf := make([]byte, 6)
		_, err = io.ReadFull(resp.Body, buf)
		require.NoError(t, err)
		cancel()
		_, err = io.ReadAll(resp.Body)
		require.Error(t, err)
		resp.Body.Close()
		s := rec.wait(t, 1)[0]
		require.Equal(t, tracer.StatusError, s.Status)
	})
	t.Run("client timeout", func(t *testing.T) {
		rec.reset()
		c := *client
		c.Timeout = 100 * time.Millisecond
		_, err := c.Get(srv.URL + "/slow")
		require.Error(t, err)
		var ne net.Error
		require.True(t, errors.As(err, &ne) && ne.Timeout(), "%v", err)
		s := rec.wait(t, 1)[0]
		require.Equal(t, tracer.StatusError, s.Status)
	})
	t.Run("connection refused", func(t *testing.T) {
		rec.reset()
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := lis.Addr().String()
		lis.Close()
		_, err = client.Get("http://" + addr + "/x?token=refused-secret")
		require.Error(t, err)
		s := rec.wait(t, 1)[0]
		require.Equal(t, tracer.StatusError, s.Status)
		require.NotContains(t, dump(s), "refused-secret")
	})
}

// TestSecretsNeverRecorded sends every kind of secret through a traced
// client and server, with header recording on for all of them, and scans
// every tag and event of every span.
func TestSecretsNeverRecorded(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	opts := []tracehttp.Option{
		tracehttp.WithTracer(tr),
		tracehttp.WithRecordedHeaders("Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key", "Set-Cookie", "Accept"),
		tracehttp.WithRedactedHeaders("x-api-key"),
	}
	srv := startServer(t, tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "SECRET-SETCOOKIE"})
		_, _ = io.WriteString(w, "ok")
	}), opts...))
	client := tracehttp.WrapClient(srv.Client(), opts...)

	u := strings.Replace(srv.URL, "http://", "http://alice:SECRET-PASSWORD@", 1) + "/p?token=SECRET-QUERY&x=1#frag-SECRET"
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer SECRET-BEARER")
	req.Header.Set("Cookie", "sid=SECRET-COOKIE")
	req.Header.Set("Proxy-Authorization", "Basic SECRET-PROXY")
	req.Header.Set("X-Api-Key", "SECRET-APIKEY")
	req.Header.Set("Accept", "text/plain")
	resp, err := client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	spans := rec.wait(t, 2)
	for _, s := range spans {
		d := dump(s)
		require.NotContains(t, d, "SECRET", "span %q: %s", s.Name, d)
		requireAttr(t, s, "http.request.header.accept", "text/plain")
		requireAttr(t, s, "http.request.header.x-api-key", "[REDACTED]")
	}
	cs := byKind(t, spans, tracer.KindClient)
	requireAttr(t, cs, "http.url", srv.URL+"/p")
	requireAttr(t, cs, "http.request.header.authorization", "[REDACTED]")
	ss := byKind(t, spans, tracer.KindServer)
	requireAttr(t, ss, "http.url", "/p")
}

// TestClientNonFlowtraceTracer: with the OpenTracing mocktracer the client
// writes X-Flow-ID itself and the server reads it.
func TestClientNonFlowtraceTracer(t *testing.T) {
	t.Parallel()
	mt := newMockTracer()
	var serverFlow, serverBaggage string
	srv := startServer(t, tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serverFlow = r.Header.Get(flowid.Header)
		serverBaggage = opentracing.SpanFromContext(r.Context()).BaggageItem("flow_id")
	}), tracehttp.WithTracer(mt)))
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(mt))
	ctx := flowid.ContextWith(context.Background(), "mock-flow")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/", nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "mock-flow", serverFlow)
	require.Equal(t, "mock-flow", serverBaggage)
	require.Eventually(t, func() bool { return len(mt.FinishedSpans()) == 2 }, 5*time.Second, 5*time.Millisecond)
	spans := mt.FinishedSpans()
	require.Equal(t, spans[0].SpanContext.TraceID, spans[1].SpanContext.TraceID)
	for _, s := range spans {
		require.Equal(t, "mock-flow", s.Tag("flow_id"))
	}
}

func TestClientFilterStillPropagates(t *testing.T) {
	t.Parallel()
	tr, rec := newTestTracer()
	var tp, fl string
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp, fl = r.Header.Get("traceparent"), r.Header.Get(flowid.Header)
	}))
	client := tracehttp.WrapClient(srv.Client(), tracehttp.WithTracer(tr),
		tracehttp.WithFilter(func(*http.Request) bool { return false }))
	parent := tr.StartSpan("parent")
	ctx := flowid.ContextWith(opentracing.ContextWithSpan(context.Background(), parent), "f-1")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/", nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	parent.Finish()
	require.Contains(t, tp, parent.Context().(*tracer.SpanContext).TraceID().String())
	require.Equal(t, "f-1", fl)
	require.Len(t, rec.all(), 1) // only the parent
}

func TestNewTransportNilBase(t *testing.T) {
	t.Parallel()
	rt := tracehttp.NewTransport(nil)
	require.NotNil(t, rt)
	orig := &http.Client{Timeout: time.Second}
	c := tracehttp.WrapClient(orig)
	require.Nil(t, orig.Transport)
	require.Equal(t, time.Second, c.Timeout)
	require.NotNil(t, c.Transport)
	require.NotNil(t, tracehttp.WrapClient(nil).Transport)
}
