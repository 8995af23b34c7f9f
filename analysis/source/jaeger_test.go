package source_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// These tests use recorded Jaeger query API responses (testdata/jaeger), in
// the shape Jaeger v1 and v2 return; no Jaeger is built or run here.

func newJaegerServer(t *testing.T) (*httptest.Server, *[]string) {
	t.Helper()
	var queries []string
	mux := http.NewServeMux()
	serve := func(file string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			queries = append(queries, r.URL.RequestURI())
			b, err := os.ReadFile(file)
			if err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
		}
	}
	mux.HandleFunc("/api/services", serve("testdata/jaeger/services.json"))
	mux.HandleFunc("/api/traces", serve("testdata/jaeger/traces.json"))
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &queries
}

func TestJaeger(t *testing.T) {
	srv, queries := newJaegerServer(t)
	j, err := source.NewJaeger(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svcs, err := j.Services(ctx)
	if err != nil || strings.Join(svcs, ",") != "catalog,frontend,jaeger-query" {
		t.Fatalf("Services = %v, %v", svcs, err)
	}
	spans, err := j.Traces(ctx, source.Query{Service: "frontend", Limit: 20, Lookback: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := (*queries)[1]; got != "/api/traces?limit=20&lookback=2h&service=frontend" {
		t.Errorf("query = %s", got)
	}
	traces := trace.Assemble(spans)
	if len(traces) != 1 || len(traces[0].Spans) != 3 {
		t.Fatalf("got %d traces", len(traces))
	}
	tr := traces[0]
	root := tr.Root()
	if tr.ID != "0000000000000000a1b2c3d4e5f60718" || root.SpanID != "0000000000000001" {
		t.Errorf("ids not padded: %s %s", tr.ID, root.SpanID)
	}
	if root.Service != "frontend" || root.Kind != trace.KindServer || !root.Error || root.Team() != "edge-team" ||
		root.Duration() != 50*time.Millisecond || tr.Weight() != 2 || root.Attributes["http.status_code"] != int64(500) {
		t.Errorf("root: %+v", root)
	}
	if _, ok := root.Attributes["span.kind"]; ok {
		t.Error("span.kind kept as an attribute")
	}
	client := tr.Span("0000000000000002")
	if client.Kind != trace.KindClient || !client.Error || client.ParentID != root.SpanID {
		t.Errorf("client: %+v", client)
	}
	srvSpan := tr.Span("0000000000000003")
	if srvSpan.ParentID != client.SpanID || srvSpan.Service != "catalog" || len(srvSpan.Links) != 1 || srvSpan.Links[0].SpanID != "0000000000000009" {
		t.Errorf("server: parent %s links %+v", srvSpan.ParentID, srvSpan.Links)
	}
}

func TestJaegerBounds(t *testing.T) {
	srv, _ := newJaegerServer(t)
	j, _ := source.NewJaeger(srv.URL, source.WithMaxResponseBytes(100))
	if _, err := j.Traces(context.Background(), source.Query{Service: "x"}); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Errorf("size bound: %v", err)
	}
	if _, err := j.Traces(context.Background(), source.Query{}); err == nil {
		t.Error("no service: want error")
	}
	for _, u := range []string{"", "ftp://x", "127.0.0.1:16686"} {
		if _, err := source.NewJaeger(u); err == nil {
			t.Errorf("NewJaeger(%q): want error", u)
		}
	}
}

func TestJaegerTimeout(t *testing.T) {
	// A server that accepts and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	defer func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	}()
	j, _ := source.NewJaeger("http://"+l.Addr().String(), source.WithTimeout(200*time.Millisecond))
	start := time.Now()
	_, err = j.Services(context.Background())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("hanging server: err %v after %v", err, time.Since(start))
	}
}

func TestJaegerErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("service") == "bad" {
			w.Write([]byte(`{"data":null,"errors":[{"code":400,"msg":"service not found"}]}`))
			return
		}
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer srv.Close()
	j, _ := source.NewJaeger(srv.URL)
	if _, err := j.Traces(context.Background(), source.Query{Service: "bad"}); err == nil || !strings.Contains(err.Error(), "service not found") {
		t.Errorf("api error: %v", err)
	}
	if _, err := j.Services(context.Background()); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("http error: %v", err)
	}
}
