package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// newJaeger serves the recorded Jaeger API responses of analysis/source's
// tests on 127.0.0.1 and returns its URL.
func newJaeger(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testdata, "..", "source", "testdata", "jaeger")
	mux := http.NewServeMux()
	for path, file := range map[string]string{"/api/services": "services.json", "/api/traces": "traces.json"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Error(err)
			}
			w.Write(b)
		})
	}
	srv := httptest.NewServer(mux) // httptest listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL
}
