package flowtraceconnector_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/analysis/live/serve"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/collector/flowtraceconnector"
	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
)

var (
	shopFile = filepath.Join("..", "..", "analysis", "testdata", "shop.jsonl")
	slosFile = filepath.Join("..", "..", "analysis", "testdata", "slos.yaml")
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// pipeline is a collector running in process: OTLP receiver -> flowtrace
// connector -> Prometheus exporter, built from the same factories the
// builder manifest names.
type pipeline struct {
	grpc, http, prom string
}

func startCollector(t *testing.T) pipeline {
	t.Helper()
	p := pipeline{grpc: freeAddr(t), http: freeAddr(t), prom: freeAddr(t)}
	abs, err := filepath.Abs(slosFile)
	require.NoError(t, err)
	cfg := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %q}
      http: {endpoint: %q}
connectors:
  flowtrace:
    slos: %q
    idle: 100ms
    flush_interval: 100ms
exporters:
  prometheus:
    endpoint: %q
service:
  telemetry:
    logs: {level: warn}
    metrics: {level: none}
  pipelines:
    traces: {receivers: [otlp], exporters: [flowtrace]}
    metrics: {receivers: [flowtrace], exporters: [prometheus]}
`, p.grpc, p.http, abs, p.prom)
	factories := func() (otelcol.Factories, error) {
		var f otelcol.Factories
		var err error
		if f.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory()); err != nil {
			return f, err
		}
		if f.Connectors, err = otelcol.MakeFactoryMap[connector.Factory](flowtraceconnector.NewFactory()); err != nil {
			return f, err
		}
		if f.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](prometheusexporter.NewFactory()); err != nil {
			return f, err
		}
		f.Telemetry = otelconftelemetry.NewFactory()
		return f, nil
	}
	col, err := otelcol.NewCollector(otelcol.CollectorSettings{
		Factories:               factories,
		BuildInfo:               component.BuildInfo{Command: "flowtrace-collector-test", Version: "test"},
		DisableGracefulShutdown: true,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"yaml:" + cfg},
			ProviderFactories: []confmap.ProviderFactory{yamlprovider.NewFactory()},
		}},
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- col.Run(context.Background()) }()
	t.Cleanup(func() {
		col.Shutdown()
		require.NoError(t, <-done)
	})
	for col.GetState() != otelcol.StateRunning {
		select {
		case err := <-done:
			t.Fatalf("collector stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return p
}

// scrapeUntil scrapes url until ok holds (bounded by the test's
// deadline, not timed: the connector flushes every 100 ms).
func scrapeUntil(t *testing.T, url string, ok func(livetest.Samples) bool) livetest.Samples {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			s, perr := livetest.Parse(resp.Body)
			resp.Body.Close()
			if perr == nil && ok(s) {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not reached (last error %v)", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func shopDocs(t *testing.T) [][]byte {
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
	return out
}

func postOTLP(t *testing.T, url string, doc []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(doc))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
}

// TestCollectorPipeline: two flowtrace services, front calling back over
// HTTP, export OTLP/gRPC to a real collector pipeline; its Prometheus
// endpoint has their service-graph edge, the user node and span metrics.
func TestCollectorPipeline(t *testing.T) {
	p := startCollector(t)
	ctx := context.Background()
	start := func(name string) *flowtrace.Tracing {
		tr := flowtrace.Start(ctx, config.WithServiceName(name), config.WithEndpoint("http://"+p.grpc),
			config.WithProtocol(config.ProtocolGRPC), flowtrace.WithoutGlobalTracer())
		t.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	front, back := start("front"), start("back")
	backSrv := &http.Server{Handler: tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}), tracehttp.WithTracer(back.Tracer())), ReadHeaderTimeout: 5 * time.Second}
	backLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = backSrv.Serve(backLis) }()
	defer backSrv.Close()
	client := &http.Client{Transport: tracehttp.NewTransport(nil, tracehttp.WithTracer(front.Tracer()))}
	frontSrv := &http.Server{Handler: tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://"+backLis.Addr().String()+r.URL.Path, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}), tracehttp.WithTracer(front.Tracer())), ReadHeaderTimeout: 5 * time.Second}
	frontLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = frontSrv.Serve(frontLis) }()
	defer frontSrv.Close()
	for i := range 10 {
		path := "/ok"
		if i%5 == 0 {
			path = "/fail"
		}
		resp, err := http.Get("http://" + frontLis.Addr().String() + path)
		require.NoError(t, err)
		resp.Body.Close()
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, front.Shutdown(sctx))
	require.NoError(t, back.Shutdown(sctx))

	got := scrapeUntil(t, "http://"+p.prom+"/metrics", func(s livetest.Samples) bool {
		return s.Value(live.MetricTraces) >= 10 && s.Value(live.MetricHeld) == 0
	})
	require.Equal(t, 10.0, got.Value(live.MetricRequests, "client", "front", "server", "back"))
	require.Equal(t, 2.0, got.Value(live.MetricRequestsFailed, "client", "front", "server", "back"))
	require.Equal(t, 10.0, got.Value(live.MetricRequests, "client", "user", "server", "front", "connection_type", live.ConnVirtual))
	require.Equal(t, 10.0, got.Value(live.MetricServerSeconds+"_count", "client", "front", "server", "back"))
	require.Equal(t, 10.0, got.Value(live.MetricClientSeconds+"_bucket", "client", "front", "server", "back", "le", "+Inf"))
	require.Equal(t, 10.0, got.Sum(live.MetricCalls, "service_name", "back", "span_kind", "SPAN_KIND_SERVER"))
	require.Len(t, got.Family(live.MetricSLOEvents), len(loadSLOs(t).SLOs), "one SLI counter per SLO, zero until matched")
}

func loadSLOs(t *testing.T) *slo.Config {
	t.Helper()
	c, err := slo.LoadFile(slosFile)
	require.NoError(t, err)
	return c
}

// TestCollectorEqualsServe: the same OTLP input to the collector pipeline
// and to flowtrace serve gives the same series at both Prometheus
// endpoints (the exporter's job, instance and scope labels aside).
func TestCollectorEqualsServe(t *testing.T) {
	p := startCollector(t)
	core := live.New(live.Config{SLOs: loadSLOs(t)})
	srv, err := serve.Start(core, serve.Config{GRPCAddr: "-", HTTPAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
	}()
	for _, doc := range shopDocs(t) {
		postOTLP(t, "http://"+p.http+"/v1/traces", doc)
		postOTLP(t, "http://"+srv.HTTPAddr()+"/v1/traces", doc)
	}
	core.Flush()
	fromServe := scrapeUntil(t, "http://"+srv.HTTPAddr()+"/metrics", func(livetest.Samples) bool { return true })
	want := fromServe.Value(live.MetricTraces)
	require.Equal(t, 160.0, want)
	fromCollector := scrapeUntil(t, "http://"+p.prom+"/metrics", func(s livetest.Samples) bool {
		return s.Value(live.MetricTraces) == want && s.Value(live.MetricHeld) == 0
	})
	prefixes := []string{"traces_", "flowtrace_"}
	drop := []string{"job", "instance", "otel_scope_name", "otel_scope_version", "otel_scope_schema_url"}
	a, b := fromServe.Keys(prefixes, drop...), fromCollector.Keys(prefixes, drop...)
	require.NotEmpty(t, a)
	for k, v := range a {
		require.Contains(t, b, k)
		require.InDelta(t, v, b[k], 1e-9*max(1, v), k)
	}
	for k := range b {
		require.Contains(t, a, k, "only in the collector's output")
	}
	require.True(t, strings.HasPrefix(live.MetricRequests, "traces_service_graph"))
}
