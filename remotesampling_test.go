package flowtrace

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// TestJaegerRemoteFromTheEnvironment: OTEL_TRACES_SAMPLER=
// parentbased_jaeger_remote with OpenTelemetry's argument syntax polls the
// endpoint, the start-up line names it, Stats reports the strategy, root
// spans carry sampler.type/param, and Shutdown stops the poller (goleak
// in TestMain).
func TestJaegerRemoteFromTheEnvironment(t *testing.T) {
	var service atomic.Value
	service.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		service.Store(r.URL.Query().Get("service"))
		_, _ = w.Write([]byte(`{"strategyType":0,"operationSampling":{"defaultSamplingProbability":0.5,"perOperationStrategies":[{"operation":"GET /a","probabilisticSampling":{"samplingRate":1}}]}}`))
	}))
	defer srv.Close()
	rec := tracetest.NewRecorder()
	out := &syncBuffer{}
	orig := stderr
	stderr = out
	defer func() { stderr = orig }()
	tracing := Start(context.Background(), append(isolated(map[string]string{
		"OTEL_SERVICE_NAME":       "shop",
		"OTEL_TRACES_EXPORTER":    "none",
		"OTEL_TRACES_SAMPLER":     "parentbased_jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG": "endpoint=" + srv.URL + "/sampling,pollingIntervalMs=100,initialSamplingRate=0.25,bogus=1",
	}), WithSpanProcessor(rec))...)
	require.Eventually(t, func() bool {
		st := tracing.Stats().RemoteSampling
		return st != nil && st.Version == 1
	}, 10*time.Second, 10*time.Millisecond)
	st := tracing.Stats().RemoteSampling
	require.Equal(t, "peroperation", st.Type)
	require.Equal(t, map[string]float64{"GET /a": 1}, st.Operations)
	require.Equal(t, "shop", service.Load())

	sp := tracing.Tracer().StartSpan("GET /a")
	sp.Finish()
	got, ok := rec.FindSpan("GET /a")
	require.True(t, ok)
	require.Equal(t, "probabilistic", got.Attributes[tracer.SamplerTypeKey])
	require.Equal(t, 1.0, got.Attributes[tracer.SamplerParamKey])

	require.NoError(t, shutdown(t, tracing, 2*time.Second))
	report := out.String()
	line := startupSampler(t, report)
	require.True(t, strings.HasPrefix(line, "parentbased{jaeger_remote{"+srv.URL+"/sampling,every 100ms,initial 0.25}"), line)
	require.Contains(t, report, `unknown key "bogus"`)
	require.Contains(t, report, "jaeger_remote: strategy 1 (per operation: default 0.5, 1 operations, lower bound 0/s) applied")
}

func TestJaegerRemoteEndpointPasswordNotLogged(t *testing.T) {
	_, report := startReported(t, map[string]string{
		"OTEL_TRACES_EXPORTER":    "none",
		"OTEL_TRACES_SAMPLER":     "jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG": "endpoint=http://user:hunter2@127.0.0.1:1/sampling,pollingIntervalMs=100",
	})
	require.NotContains(t, report, "hunter2")
}
