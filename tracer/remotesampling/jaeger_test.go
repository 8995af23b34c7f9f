package remotesampling_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/internal/jaegertest"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// writeStrategy replaces Jaeger's strategy file at once (a rename), so that
// its reload never reads half a file.
func writeStrategy(t *testing.T, path string, probability float64) {
	t.Helper()
	body := fmt.Sprintf(`{"service_strategies":[{"service":"shop","type":"probabilistic","param":%g}],
  "default_strategy":{"type":"probabilistic","param":1}}`, probability)
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(body), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// startService runs a flowtrace service "shop" whose sampler is
// parentbased_jaeger_remote polling endpoint, exporting to rcv.
func startService(t *testing.T, rcv *tracetest.Receiver, endpoint string, initial float64) *flowtrace.Tracing {
	t.Helper()
	env := map[string]string{
		"OTEL_SERVICE_NAME":           "shop",
		"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.GRPCEndpoint(),
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
		"OTEL_BSP_MAX_QUEUE_SIZE":     "20000",
		"OTEL_TRACES_SAMPLER":         "parentbased_jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG":     fmt.Sprintf("endpoint=%s,pollingIntervalMs=200,initialSamplingRate=%g", endpoint, initial),
		"OTEL_LOG_LEVEL":              "error",
	}
	tracing := flowtrace.Start(context.Background(),
		config.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		config.WithFileSystem(fstest.MapFS{}), flowtrace.WithoutGlobalTracer())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, tracing.Shutdown(ctx))
	})
	return tracing
}

// waitStrategy waits (generously: Jaeger re-reads its file every reload
// interval, the service polls every 200 ms) until Stats reports
// probability p.
func waitStrategy(t *testing.T, tracing *flowtrace.Tracing, p float64) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := tracing.Stats().RemoteSampling
		return st != nil && st.Version > 0 && st.DefaultProbability == p
	}, 60*time.Second, 20*time.Millisecond, "strategy %g never applied: %+v", p, tracing.Stats().RemoteSampling)
}

// sendRoots starts n trace roots tagged phase and returns how many the
// service sampled; it waits until the receiver has all of them.
func sendRoots(t *testing.T, tracing *flowtrace.Tracing, rcv *tracetest.Receiver, phase string, n int) (sampled int) {
	t.Helper()
	before := rcv.SpanCount()
	for range n {
		sp := tracing.Tracer().StartSpan("GET /browse", opentracing.Tag{Key: "phase", Value: phase})
		if sp.Context().(*tracer.SpanContext).IsSampled() {
			sampled++
		}
		sp.Finish()
	}
	require.NoError(t, tracing.ForceFlush(context.Background()))
	require.Eventually(t, func() bool { return rcv.SpanCount() >= before+sampled }, 20*time.Second, 10*time.Millisecond)
	return sampled
}

// received counts what the OTLP receiver got of phase, checking that each
// span tells the truth about the rule that kept it.
func received(t *testing.T, rcv *tracetest.Receiver, phase string, p float64) int {
	t.Helper()
	th := tracer.ProbabilityThreshold(p)
	n := 0
	for _, sp := range rcv.Spans() {
		if sp.Attributes["phase"] != phase {
			continue
		}
		n++
		require.Equal(t, p, sp.Attributes[tracer.SamplingProbabilityKey])
		require.Equal(t, "probabilistic", sp.Attributes[tracer.SamplerTypeKey])
		require.Equal(t, p, sp.Attributes[tracer.SamplerParamKey])
		require.Contains(t, sp.TraceState, "th:"+th.TValue())
	}
	return n
}

// TestRealJaegerStrategyChange: a real Jaeger v2 serves a file strategy
// reloaded every 500 ms; two services poll it, over gRPC and over HTTP.
// The file goes from 1.0 to 0.1 while they run: each follows, and the
// OTLP receiver gets 10 % of a few thousand traces, within a binomial
// tolerance.
func TestRealJaegerStrategyChange(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strategies.json")
	writeStrategy(t, file, 1)
	j := jaegertest.StartSampling(t, file, 500*time.Millisecond)
	for _, tc := range []struct{ name, endpoint string }{
		{"grpc", j.GRPC},
		{"http", "http://" + j.HTTP + "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeStrategy(t, file, 1)
			rcv, err := tracetest.NewReceiver(tracetest.WithMaxSpans(100000))
			require.NoError(t, err)
			t.Cleanup(func() { _ = rcv.Close() })
			tracing := startService(t, rcv, tc.endpoint, 0)
			// Jaeger may still serve the previous subtest's 0.1 for one
			// reload interval: the version is counted from here.
			waitStrategy(t, tracing, 1)
			version := tracing.Stats().RemoteSampling.Version
			require.Equal(t, 500, sendRoots(t, tracing, rcv, "full", 500))
			require.Equal(t, 500, received(t, rcv, "full", 1))

			writeStrategy(t, file, 0.1)
			waitStrategy(t, tracing, 0.1)
			const n = 4000
			sampled := sendRoots(t, tracing, rcv, "peak", n)
			got := received(t, rcv, "peak", 0.1)
			require.Equal(t, sampled, got, "every sampled trace reaches the receiver")
			sd := math.Sqrt(n * 0.1 * 0.9)
			t.Logf("after 1.0 -> 0.1: the receiver got %d of %d traces (want %g ± %.0f)", got, n, 0.1*n, 4*sd)
			require.InDelta(t, 0.1*n, float64(got), 4*sd, "10 %% of %d traces", n)
			require.Equal(t, version+1, tracing.Stats().RemoteSampling.Version)
		})
	}
}

// TestRealJaegerDownAtStartAndFlapping: the service starts while Jaeger
// is down (initial rate), follows it when it comes up, keeps the last
// strategy while it is down again, and takes a change made meanwhile when
// it is back.
func TestRealJaegerDownAtStartAndFlapping(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strategies.json")
	writeStrategy(t, file, 0.5)
	j := jaegertest.StartSampling(t, file, 500*time.Millisecond)
	j.Stop()
	rcv, err := tracetest.NewReceiver(tracetest.WithMaxSpans(100000))
	require.NoError(t, err)
	t.Cleanup(func() { _ = rcv.Close() })
	tracing := startService(t, rcv, j.GRPC, 0.25)
	require.Eventually(t, func() bool { return tracing.Stats().RemoteSampling.Failures >= 2 }, 20*time.Second, 20*time.Millisecond)
	st := tracing.Stats().RemoteSampling
	require.Zero(t, st.Version)
	require.Equal(t, 0.25, st.DefaultProbability, "the initial rate while Jaeger is down")
	require.NotEmpty(t, st.LastError)

	j.Restart(t)
	waitStrategy(t, tracing, 0.5)
	require.Empty(t, tracing.Stats().RemoteSampling.LastError)

	j.Stop()
	failures := tracing.Stats().RemoteSampling.Failures
	require.Eventually(t, func() bool { return tracing.Stats().RemoteSampling.Failures >= failures+2 }, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, 0.5, tracing.Stats().RemoteSampling.DefaultProbability, "the last good strategy while Jaeger is down")
	const n = 2000
	got := sendRoots(t, tracing, rcv, "down", n)
	require.InDelta(t, 0.5*n, float64(got), 4*math.Sqrt(n*0.25))

	writeStrategy(t, file, 0.2)
	j.Restart(t)
	waitStrategy(t, tracing, 0.2)
	require.Equal(t, uint64(2), tracing.Stats().RemoteSampling.Version)
}
