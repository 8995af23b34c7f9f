package source

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/tracer"
)

// jaegerBinary finds a Jaeger v2 all-in-one built by scripts/jaeger.sh.
// CI builds it (and caches it outside the clone); a developer machine
// without it runs only the recorded-response tests.
func jaegerBinary(t *testing.T) string {
	path := os.Getenv("FLOWTRACE_JAEGER_BIN")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "flowtrace", "jaeger-v1.76.0", "jaeger")
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Jaeger binary at %s: .ci/run builds it with scripts/jaeger.sh", path)
		}
		t.Skipf("no Jaeger binary at %s (build one with scripts/jaeger.sh); the recorded-response tests still ran", path)
	}
	return path
}

func freePort(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer lis.Close()
	return lis.Addr().String()
}

// startJaeger runs Jaeger with in-memory storage, every listener on
// 127.0.0.1, and returns its OTLP/gRPC and query addresses.
func startJaeger(t *testing.T) (otlp, query string) {
	bin := jaegerBinary(t)
	otlp, query, queryGRPC, health := freePort(t), freePort(t), freePort(t), freePort(t)
	cfg := fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: %q
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: %q
    grpc:
      endpoint: %q
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, health, query, queryGRPC, otlp)
	path := filepath.Join(t.TempDir(), "jaeger.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config", "file:"+path)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("jaeger output:\n%s", logs.String())
		}
	})
	j, err := NewJaeger("http://"+query, WithTimeout(time.Second))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := j.Services(context.Background())
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "jaeger query API never came up")
	return otlp, query
}

func TestRealJaeger(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Jaeger process")
	}
	otlpAddr, queryAddr := startJaeger(t)

	newTracer := func(service string) *tracer.Tracer {
		client, err := export.NewOTLPClient(export.OTLPSettings{Endpoint: "http://" + otlpAddr, Timeout: 5 * time.Second})
		require.NoError(t, err)
		b := export.NewBatcher(export.NewOTLP(client, []tracer.Attribute{{Key: "service.name", Value: service}}),
			export.WithScheduleDelay(50*time.Millisecond))
		tr := tracer.New(tracer.WithProcessor(b))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = tr.Shutdown(ctx)
		})
		return tr
	}
	edge, catalog := newTracer("jaeger-edge"), newTracer("jaeger-catalog")
	root := edge.StartSpan("GET /browse", ext.SpanKindRPCServer)
	client := edge.StartSpan("GET", opentracing.ChildOf(root.Context()), ext.SpanKindRPCClient)
	server := catalog.StartSpan("GET /products", opentracing.ChildOf(client.Context()), ext.SpanKindRPCServer)
	server.SetTag("http.status_code", 500)
	ext.Error.Set(server, true)
	server.Finish()
	client.Finish()
	root.Finish()
	for _, tr := range []*tracer.Tracer{edge, catalog} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, tr.ForceFlush(ctx))
		cancel()
	}
	traceID := root.Context().(*tracer.SpanContext).TraceID().String()

	j, err := NewJaeger("http://"+queryAddr, WithTimeout(5*time.Second))
	require.NoError(t, err)
	var spans []*trace.Span
	require.Eventually(t, func() bool {
		spans = nil
		for _, svc := range []string{"jaeger-edge", "jaeger-catalog"} {
			got, err := j.Traces(context.Background(), Query{Service: svc, Limit: 10, Lookback: time.Hour})
			if err != nil {
				return false
			}
			spans = append(spans, got...)
		}
		return len(trace.Assemble(spans)) == 1 && len(trace.Assemble(spans)[0].Spans) == 3
	}, 20*time.Second, 200*time.Millisecond, "the trace never showed up in Jaeger's query API")

	tr := trace.Assemble(spans)[0]
	require.Equal(t, traceID, tr.ID)
	byName := map[string]*trace.Span{}
	for _, s := range tr.Spans {
		byName[s.Name] = s
	}
	require.Equal(t, "jaeger-edge", byName["GET /browse"].Service)
	require.Equal(t, "jaeger-catalog", byName["GET /products"].Service)
	require.Equal(t, byName["GET"].SpanID, byName["GET /products"].ParentID, "parentage survives the round trip through Jaeger")
	require.Equal(t, byName["GET /browse"].SpanID, byName["GET"].ParentID)
	require.Equal(t, trace.KindServer, byName["GET /products"].Kind)
	require.Equal(t, trace.KindClient, byName["GET"].Kind)
	require.True(t, byName["GET /products"].Error)
	require.False(t, byName["GET /browse"].Error)
}
