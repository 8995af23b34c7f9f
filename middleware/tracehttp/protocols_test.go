package tracehttp_test

import (
	"bufio"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracer"
)

// protoServer is a server speaking one protocol and a client for it.
type protoServer struct {
	url    string
	client *http.Client
	major  int
}

// startProto starts h on 127.0.0.1 as HTTP/1.1, HTTP/2 over TLS, or h2c
// (HTTP/2 without TLS, prior knowledge) and closes it with the test.
func startProto(t *testing.T, proto string, h http.Handler) protoServer {
	t.Helper()
	switch proto {
	case "http1":
		srv := startServer(t, h)
		return protoServer{url: srv.URL, client: srv.Client(), major: 1}
	case "h2":
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return protoServer{url: srv.URL, client: srv.Client(), major: 2}
	case "h2c":
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv := &http.Server{Handler: h, Protocols: &p, ErrorLog: log.New(io.Discard, "", 0)}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(lis) }()
		var cp http.Protocols
		cp.SetUnencryptedHTTP2(true)
		tr := &http.Transport{Protocols: &cp}
		t.Cleanup(func() {
			tr.CloseIdleConnections()
			_ = srv.Close()
			<-done
		})
		return protoServer{url: "http://" + lis.Addr().String(), client: &http.Client{Transport: tr}, major: 2}
	}
	t.Fatalf("unknown protocol %q", proto)
	return protoServer{}
}

var protocols = []string{"http1", "h2", "h2c"}

// TestProtocolsParentChild runs a client→server hop over each protocol.
func TestProtocolsParentChild(t *testing.T) {
	t.Parallel()
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			tr, rec := newTestTracer()
			ps := startProto(t, proto, tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr)))
			client := tracehttp.WrapClient(ps.client, tracehttp.WithTracer(tr))
			resp, body := get(t, client, ps.url+"/users/3", nil)
			require.Equal(t, ps.major, resp.ProtoMajor)
			require.Equal(t, "user 3", body)
			spans := rec.wait(t, 2)
			cs := byKind(t, spans, tracer.KindClient)
			ss := byKind(t, spans, tracer.KindServer)
			require.Equal(t, cs.SpanContext.SpanID, ss.ParentSpanID)
			require.Equal(t, "GET /users/{id}", ss.Name)
			if proto == "h2" {
				requireAttr(t, ss, "http.scheme", "https")
			} else {
				requireAttr(t, ss, "http.scheme", "http")
			}
		})
	}
}

// TestStreamingSSE checks that a handler's flushed events reach the client
// before the handler returns, through both middlewares and each protocol,
// and that the client span ends only at the end of the stream.
func TestStreamingSSE(t *testing.T) {
	t.Parallel()
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			tr, rec := newTestTracer()
			gotFirst := make(chan struct{})
			handlerDone := make(chan struct{})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
				defer close(handlerDone)
				w.Header().Set("Content-Type", "text/event-stream")
				f, ok := w.(http.Flusher)
				if !ok {
					http.Error(w, "no flusher", http.StatusInternalServerError)
					return
				}
				for i, ev := range []string{"one", "two", "three"} {
					_, _ = io.WriteString(w, "data: "+ev+"\n\n")
					f.Flush()
					if i == 0 {
						select {
						case <-gotFirst: // the client saw it while we are still running
						case <-time.After(5 * time.Second):
							_, _ = io.WriteString(w, "data: TIMEOUT\n\n")
							return
						}
					}
				}
			})
			ps := startProto(t, proto, tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)))
			client := tracehttp.WrapClient(ps.client, tracehttp.WithTracer(tr))

			parent := tr.StartSpan("parent")
			ctx := opentracing.ContextWithSpan(context.Background(), parent)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ps.url+"/events", nil)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, ps.major, resp.ProtoMajor)
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "data: one\n", line)
			select {
			case <-handlerDone:
				t.Fatal("handler returned before the client read the first event")
			default:
			}
			close(gotFirst)
			rest, err := io.ReadAll(br)
			require.NoError(t, err)
			require.Equal(t, "\ndata: two\n\ndata: three\n\n", string(rest))
			parent.Finish()

			spans := rec.wait(t, 3)
			cs := byKind(t, spans, tracer.KindClient)
			ss := byKind(t, spans, tracer.KindServer)
			require.Equal(t, cs.SpanContext.SpanID, ss.ParentSpanID)
			requireAttr(t, cs, "http.response_size", len("data: one\n\ndata: two\n\ndata: three\n\n"))
			requireAttr(t, ss, "http.response_size", len("data: one\n\ndata: two\n\ndata: three\n\n"))
			require.False(t, strings.Contains(dump(ss), "TIMEOUT"))
		})
	}
}
