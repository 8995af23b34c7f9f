package tracehttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// FuzzServerRequest feeds hostile request fields to the server middleware:
// it must not panic, must echo a valid flow id, and must record only
// bounded, valid UTF-8 text free of control characters.
func FuzzServerRequest(f *testing.F) {
	f.Add("GET", "/users/1", "example.com", "curl/8", "flow-1", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("BREW", "/x", "a b\r\n", "\x1b[2J\xff", "bad id\n", "garbage")
	f.Add("", "/", "", "", "", "")
	tr, rec := newTestTracer()
	h := tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr))
	f.Fuzz(func(t *testing.T, method, path, host, ua, flow, tp string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Method = method
		req.URL.Path = path
		req.Host = host
		req.Header["User-Agent"] = []string{ua}
		req.Header["X-Flow-Id"] = []string{flow}
		req.Header["Traceparent"] = []string{tp}
		rec.reset()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		got := w.Header().Get(flowid.Header)
		if !flowid.Valid(got) {
			t.Fatalf("echoed invalid flow id %q", got)
		}
		if flowid.Valid(flow) && got != flow {
			t.Fatalf("valid flow id %q replaced by %q", flow, got)
		}
		spans := rec.all()
		if len(spans) != 1 {
			t.Fatalf("%d spans", len(spans))
		}
		s := spans[0]
		if len(s.Name) > 64 {
			t.Fatalf("span name %q", s.Name)
		}
		for _, a := range s.Attributes {
			str, ok := a.Value.(string)
			if !ok || a.Key == "http.url" {
				continue
			}
			if !utf8.ValidString(str) || len(str) > 4096 {
				t.Fatalf("tag %s=%q", a.Key, str)
			}
			for _, r := range str {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("tag %s=%q has a control character", a.Key, str)
				}
			}
		}
	})
}
