package serve_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/analysis/live/serve"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/source"
)

var (
	shopFile = filepath.Join("..", "..", "testdata", "shop.jsonl")
	slosFile = filepath.Join("..", "..", "testdata", "slos.yaml")
)

func slos(t *testing.T) *slo.Config {
	t.Helper()
	c, err := slo.LoadFile(slosFile)
	require.NoError(t, err)
	return c
}

// start runs a server on loopback ports chosen by the system.
func start(t *testing.T, core *live.Core, cfg serve.Config) *serve.Server {
	t.Helper()
	if cfg.GRPCAddr == "" {
		cfg.GRPCAddr = "127.0.0.1:0"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	srv, err := serve.Start(core, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	})
	return srv
}

// lines returns the OTLP/JSON documents of the shop file.
func lines(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open(shopFile)
	require.NoError(t, err)
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, bytes.Clone(l))
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}

func post(t *testing.T, url, contentType, encoding string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func scrape(t *testing.T, addr string) livetest.Samples {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, live.ContentType, resp.Header.Get("Content-Type"))
	s, err := livetest.Parse(resp.Body)
	require.NoError(t, err)
	return s
}

// sendShop sends the shop file: even documents over OTLP/HTTP (JSON,
// protobuf and gzip in turn), odd ones over OTLP/gRPC.
func sendShop(t *testing.T, srv *serve.Server) {
	t.Helper()
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	url := "http://" + srv.HTTPAddr() + "/v1/traces"
	for i, doc := range lines(t) {
		req := ptraceotlp.NewExportRequest()
		require.NoError(t, req.UnmarshalJSON(doc))
		if i%2 == 1 {
			_, err := client.Export(context.Background(), req)
			require.NoError(t, err)
			continue
		}
		switch i % 6 {
		case 0:
			require.Equal(t, http.StatusOK, post(t, url, "application/json", "", doc).StatusCode)
		case 2:
			pb, err := req.MarshalProto()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, post(t, url, "application/x-protobuf", "", pb).StatusCode)
		default:
			var gz bytes.Buffer
			w := gzip.NewWriter(&gz)
			_, _ = w.Write(doc)
			require.NoError(t, w.Close())
			require.Equal(t, http.StatusOK, post(t, url, "application/json", "gzip", gz.Bytes()).StatusCode)
		}
	}
}

// TestServeGivesTheCoreSeries: the shop data sent over OTLP/gRPC and
// OTLP/HTTP gives at /metrics exactly the series of a core fed the file.
func TestServeGivesTheCoreSeries(t *testing.T) {
	core := live.New(live.Config{SLOs: slos(t)})
	srv := start(t, core, serve.Config{})
	sendShop(t, srv)
	core.Flush()
	got := scrape(t, srv.HTTPAddr())

	spans, err := source.ReadFile(shopFile)
	require.NoError(t, err)
	direct := live.New(live.Config{SLOs: slos(t)})
	direct.Add(spans)
	direct.Flush()
	var b bytes.Buffer
	require.NoError(t, direct.Snapshot().WriteText(&b))
	want, err := livetest.Parse(&b)
	require.NoError(t, err)

	require.Equal(t, want.Keys(nil), got.Keys(nil))
	require.Positive(t, got.Value(live.MetricRequests, "client", "edge", "server", "catalog"))
	require.Positive(t, got.Value(live.MetricSLOEvents, "slo", "checkout-availability"))
}

// TestServeBounds: requests over the size bound, of the wrong type or
// undecodable are refused and counted, over HTTP and gRPC.
func TestServeBounds(t *testing.T) {
	core := live.New(live.Config{})
	srv := start(t, core, serve.Config{MaxRequestBytes: 1 << 10})
	url := "http://" + srv.HTTPAddr() + "/v1/traces"
	doc := lines(t)[0]
	require.Greater(t, len(doc), 1<<10)

	require.Equal(t, http.StatusRequestEntityTooLarge, post(t, url, "application/json", "", doc).StatusCode)
	bomb := gzip.NewWriter(io.Discard)
	var gz bytes.Buffer
	bomb.Reset(&gz)
	_, _ = bomb.Write(bytes.Repeat([]byte(" "), 1<<20)) // 1 MiB of spaces: a few KB compressed
	require.NoError(t, bomb.Close())
	require.Less(t, gz.Len(), 1<<12)
	require.Equal(t, http.StatusRequestEntityTooLarge, post(t, url, "application/json", "gzip", gz.Bytes()).StatusCode)
	require.Equal(t, http.StatusUnsupportedMediaType, post(t, url, "text/plain", "", []byte("x")).StatusCode)
	require.Equal(t, http.StatusBadRequest, post(t, url, "application/json", "", []byte(`{"resourceSpans":[`)).StatusCode)
	noID := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x"}]}]}]}`
	require.Equal(t, http.StatusBadRequest, post(t, url, "application/json", "", []byte(noID)).StatusCode)
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	req := ptraceotlp.NewExportRequest()
	for _, d := range lines(t)[:20] {
		r := ptraceotlp.NewExportRequest()
		require.NoError(t, r.UnmarshalJSON(d))
		r.Traces().ResourceSpans().MoveAndAppendTo(req.Traces().ResourceSpans())
	}
	pb, err := req.MarshalProto()
	require.NoError(t, err)
	require.Greater(t, len(pb), 1<<10)
	_, err = ptraceotlp.NewGRPCClient(conn).Export(context.Background(), req)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)

	got := scrape(t, srv.HTTPAddr())
	require.Equal(t, 2.0, got.Value(live.MetricRejected, "reason", "limit"))
	require.Equal(t, 2.0, got.Value(live.MetricRejected, "reason", "decode"))
	require.Equal(t, 1.0, got.Value(live.MetricDropped, "reason", "decode"))
	require.Zero(t, got.Value(live.MetricSpans))
}

// TestPage: the page and the diagram name every service, escape what the
// input controls, and draw the user node.
func TestPage(t *testing.T) {
	core := live.New(live.Config{SLOs: slos(t)})
	srv := start(t, core, serve.Config{})
	sendShop(t, srv)
	core.Flush()
	resp, err := http.Get("http://" + srv.HTTPAddr() + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page := string(body)
	for _, svc := range []string{"edge", "catalog", "cart", "payment"} {
		require.Contains(t, page, `data-name="`+svc+`"`)
	}
	require.Contains(t, page, `data-kind="user"`)
	require.Contains(t, page, "checkout-availability")
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
}
