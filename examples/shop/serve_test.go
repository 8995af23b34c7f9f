package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/internal/browsertest"
)

var shopServices = []string{"edge", "catalog", "cart", "order", "payment"}

// TestShopServe: `shop --serve` keeps the shop under load with its spans
// analysed live; the page, in headless Chromium, shows every service of
// the shop and the SLO table without a console message, and the shop
// stops cleanly when interrupted.
func TestShopServe(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &lockedWriter{w: &strings.Builder{}}
	done := make(chan error, 1)
	go func() {
		_, err := runShop(ctx, options{rate: 30, serve: true, serveAddr: "127.0.0.1:0"}, pw, stderr)
		pw.Close()
		done <- err
	}()
	var page string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "live view on "); ok {
			page = strings.Fields(rest)[0]
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NotEmpty(t, page)

	// Wait (bounded by ctx) until a trace of every service has been
	// assembled: the services export every 200 ms, traces close after 2 s.
	for {
		got := scrapeShop(t, page+"metrics")
		n := 0
		for _, svc := range shopServices {
			if got.Sum(live.MetricCalls, "service_name", svc) > 0 {
				n++
			}
		}
		if n == len(shopServices) && got.Sum(live.MetricRequests, "client", "user") > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not every service in the live series: %v\n%s", got.Keys([]string{live.MetricCalls}), stderr.String())
		case <-time.After(500 * time.Millisecond):
		}
	}
	dom, console := browsertest.Load(t, page)
	require.Empty(t, console)
	for _, svc := range shopServices {
		require.Contains(t, dom, `data-kind="service" data-name="`+svc+`"`)
	}
	require.Contains(t, dom, `<td>checkout-availability</td>`)
	cancel()
	require.NoError(t, <-done, stderr.String())
}

func scrapeShop(t *testing.T, url string) livetest.Samples {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	s, err := livetest.Parse(resp.Body)
	require.NoError(t, err)
	return s
}

// lockedWriter is a strings.Builder the shop's goroutines write while
// the test reads it.
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
