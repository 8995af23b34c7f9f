package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
)

// TestServeCommand runs `flowtrace serve` in process: it prints its
// addresses, takes OTLP/HTTP, serves the SLI counters at /metrics and the
// page, and exits 0 when interrupted.
func TestServeCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := serveSignals
	serveSignals = func(context.Context) (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { serveSignals = old }()

	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0", "--slos", filepath.Join("..", "..", "analysis", "testdata", "slos.yaml"), "--idle", "1ms"}, pw, &stderr)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var page string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "live view on "); ok {
			page = a
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NotEmpty(t, page, stderr.String())

	f, err := os.Open(filepath.Join("..", "..", "analysis", "testdata", "shop.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	docs := bufio.NewScanner(f)
	docs.Buffer(nil, 16<<20)
	for docs.Scan() {
		resp, err := http.Post(page+"v1/traces", "application/json", bytes.NewReader(docs.Bytes()))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	resp, err := http.Get(page + "metrics")
	require.NoError(t, err)
	got, err := livetest.Parse(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 770.0, got.Value(live.MetricSpans))
	require.Len(t, got.Family(live.MetricSLOEvents), 3)

	resp, err = http.Get(page)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), "checkout-availability")

	cancel()
	require.Equal(t, exitOK, <-done, stderr.String())
}
