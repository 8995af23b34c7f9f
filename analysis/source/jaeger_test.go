package source_test

import (
	"context"
	"errors"
	"fmt"
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
	end := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	spans, err := j.Traces(ctx, source.Query{Service: "frontend", Limit: 20, Lookback: 2 * time.Hour, End: end})
	if err != nil {
		t.Fatal(err)
	}
	// start and end in microseconds: Jaeger's API ignores lookback.
	if got := (*queries)[1]; got != "/api/traces?end=1767232800000000&limit=20&service=frontend&start=1767225600000000" {
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
	// Every response is over the bound: the window is split down to one
	// microsecond, then the result is partial (not an error, not silent).
	r, err := j.Search(context.Background(), source.Query{Service: "x"})
	if err != nil || !r.Partial || !strings.Contains(r.Reason, "over the size bound") || r.Requests > 64 {
		t.Errorf("size bound: %+v, %v", r, err)
	}
	if _, err := j.Traces(context.Background(), source.Query{Service: "x"}); !errors.Is(err, source.ErrPartial) {
		t.Errorf("Traces: %v, want ErrPartial", err)
	}
	if _, err := j.Search(context.Background(), source.Query{Service: "x", Start: time.Now(), End: time.Now().Add(-time.Hour)}); err == nil {
		t.Error("end before start: want error")
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

// indexServer answers /api/traces like Jaeger's query service from a set of
// one-span traces (trace i starts at base + offsets[i] µs): the newest
// limit traces of the service whose span starts in [start, end].
func indexServer(t *testing.T, base int64, offsets []int64) (*httptest.Server, *int) {
	t.Helper()
	requests := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/api/services", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":["a","b","jaeger-query"]}`))
	})
	mux.HandleFunc("/api/traces", func(w http.ResponseWriter, r *http.Request) {
		requests++
		q := r.URL.Query()
		var start, end int64
		var limit int
		fmt.Sscan(q.Get("start"), &start)
		fmt.Sscan(q.Get("end"), &end)
		fmt.Sscan(q.Get("limit"), &limit)
		var data []string
		for i := len(offsets) - 1; i >= 0 && len(data) < limit; i-- { // newest first
			ts := base + offsets[i]
			if ts < start || ts > end {
				continue
			}
			// Services a and b both index every trace.
			data = append(data, fmt.Sprintf(`{"traceID":"%x","spans":[{"traceID":"%x","spanID":"1","operationName":"op","startTime":%d,"duration":1000,"processID":"p1","tags":[{"key":"span.kind","type":"string","value":"server"}]}],"processes":{"p1":{"serviceName":"a"}}}`, i+1, i+1, ts))
		}
		fmt.Fprintf(w, `{"data":[%s]}`, strings.Join(data, ","))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &requests
}

func TestJaegerPaging(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	day := int64(24 * time.Hour / time.Microsecond)
	var offsets []int64
	for i := range 60 { // 60 traces over 4 days
		offsets = append(offsets, int64(i)*4*day/60)
	}
	srv, requests := indexServer(t, base, offsets)
	j, _ := source.NewJaeger(srv.URL)
	q := source.Query{Service: "a", Start: time.UnixMicro(base), End: time.UnixMicro(base + 4*day), Limit: 7}
	r, err := j.Search(context.Background(), q)
	if err != nil || r.Partial || r.Traces != 60 || len(r.Spans) != 60 || r.Requests != *requests {
		t.Fatalf("60 traces, limit 7: %d traces, %d spans, partial %v (%s), %d requests, %v", r.Traces, len(r.Spans), r.Partial, r.Reason, r.Requests, err)
	}
	// Every service: a and b return the same traces, kept once.
	q.Service = ""
	if r, err = j.Search(context.Background(), q); err != nil || r.Traces != 60 || len(r.Spans) != 60 || r.Partial {
		t.Fatalf("all services: %+v %v", r, err)
	}
	// Caps.
	q.Service, q.MaxTraces = "a", 30
	if r, _ = j.Search(context.Background(), q); !r.Partial || !strings.Contains(r.Reason, "trace cap") || r.Traces < 30 {
		t.Errorf("trace cap: %d traces, %s", r.Traces, r.Reason)
	}
	q.MaxTraces, q.MaxRequests = 0, 3
	if r, _ = j.Search(context.Background(), q); !r.Partial || r.Requests != 3 || !strings.Contains(r.Reason, "request cap") {
		t.Errorf("request cap: %d requests, %s", r.Requests, r.Reason)
	}
	// More traces in one microsecond than the limit: no split can help.
	srv2, _ := indexServer(t, base, []int64{5, 5, 5, 5})
	j2, _ := source.NewJaeger(srv2.URL)
	r, err = j2.Search(context.Background(), source.Query{Service: "a", Start: time.UnixMicro(base), End: time.UnixMicro(base + 1000), Limit: 3})
	if err != nil || !r.Partial || !strings.Contains(r.Reason, "3 or more traces start in the microsecond") {
		t.Errorf("one microsecond: %+v %v", r, err)
	}
}
