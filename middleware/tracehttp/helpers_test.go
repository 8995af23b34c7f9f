package tracehttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// recorder is a SpanProcessor that keeps finished spans in memory.
type recorder struct {
	mu    sync.Mutex
	spans []*tracer.SpanData
	ch    chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1<<16)} }

func (r *recorder) OnEnd(s *tracer.SpanData) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

func (r *recorder) ForceFlush(context.Context) error { return nil }
func (r *recorder) Shutdown(context.Context) error   { return nil }

func (r *recorder) all() []*tracer.SpanData {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracer.SpanData(nil), r.spans...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.spans = nil
	r.mu.Unlock()
}

// wait returns once n spans were recorded, failing the test after 5s.
func (r *recorder) wait(t testing.TB, n int) []*tracer.SpanData {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s := r.all(); len(s) >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d spans, have %d: %v", n, len(r.all()), names(r.all()))
		}
		select {
		case <-r.ch:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func names(spans []*tracer.SpanData) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

func byKind(t testing.TB, spans []*tracer.SpanData, k tracer.SpanKind) *tracer.SpanData {
	t.Helper()
	var found *tracer.SpanData
	for _, s := range spans {
		if s.Kind == k {
			require.Nil(t, found, "more than one span of kind %d: %v", k, names(spans))
			found = s
		}
	}
	require.NotNil(t, found, "no span of kind %d in %v", k, names(spans))
	return found
}

func attr(s *tracer.SpanData, key string) (any, bool) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}

func requireAttr(t testing.TB, s *tracer.SpanData, key string, want any) {
	t.Helper()
	v, ok := attr(s, key)
	require.True(t, ok, "span %q has no tag %q: %v", s.Name, key, s.Attributes)
	require.Equal(t, want, v, "tag %q of span %q", key, s.Name)
}

// dump renders everything a span carries as text, for secret scanning.
func dump(s *tracer.SpanData) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|", s.Name, s.StatusMessage)
	for _, a := range s.Attributes {
		fmt.Fprintf(&b, "%s=%v|", a.Key, a.Value)
	}
	for _, e := range s.Events {
		fmt.Fprintf(&b, "%s:", e.Name)
		for _, a := range e.Attributes {
			fmt.Fprintf(&b, "%s=%v|", a.Key, a.Value)
		}
	}
	return b.String()
}

// newTestTracer returns a flowtrace tracer with the default propagators
// (tracecontext, baggage, flowid) recording into a recorder.
func newTestTracer(opts ...tracer.Option) (*tracer.Tracer, *recorder) {
	rec := newRecorder()
	opts = append([]tracer.Option{tracer.WithProcessor(rec), tracer.WithPropagator(propagation.Default())}, opts...)
	return tracer.New(opts...), rec
}

// startServer starts h on 127.0.0.1 (HTTP/1.1) with a quiet error log and
// closes it with the test.
func startServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// get sends a GET with headers and returns the response with its body read.
func get(t testing.TB, c *http.Client, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}
