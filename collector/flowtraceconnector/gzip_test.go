package flowtraceconnector_test

import (
	"context"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/config"
)

// TestCollectorDecodesFlowtraceGzip: flowtrace's own gzip (klauspost's
// compressor on its connection, not grpc-go's registered one) is decoded
// by the collector's OTLP receiver over gRPC and over HTTP: every span
// sent arrives and is counted.
func TestCollectorDecodesFlowtraceGzip(t *testing.T) {
	p := startCollector(t)
	ctx := context.Background()
	const n = 40
	services := map[string][2]string{
		"gzip-grpc": {config.ProtocolGRPC, "http://" + p.grpc},
		"gzip-http": {config.ProtocolHTTPProtobuf, "http://" + p.http + "/v1/traces"},
	}
	for name, pe := range services {
		env := map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}
		tr := flowtrace.Start(ctx, config.WithServiceName(name), config.WithProtocol(pe[0]), config.WithEndpoint(pe[1]),
			config.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }), flowtrace.WithoutGlobalTracer())
		require.Equal(t, "gzip", tr.Config().Compression)
		for range n {
			sp := tr.Tracer().StartSpan("GET /item", ext.SpanKindRPCServer)
			sp.Finish()
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		require.NoError(t, tr.Shutdown(sctx))
		cancel()
		st := tr.Stats()
		require.Equal(t, int64(n), st.Export.Exported, name)
		require.Zero(t, st.Export.Dropped(), name)
	}
	scrapeUntil(t, "http://"+p.prom+"/metrics", func(s livetest.Samples) bool {
		for name := range services {
			if s.Sum(live.MetricCalls, "service_name", name) != n {
				return false
			}
		}
		return true
	})
}
