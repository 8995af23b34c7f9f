package flowtrace

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracer"
)

// syncBuffer is a writer Start can report to while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startReported runs Start with env alone and returns what it reported.
func startReported(t *testing.T, env map[string]string) (*Tracing, string) {
	t.Helper()
	out := &syncBuffer{}
	orig := stderr
	stderr = out
	defer func() { stderr = orig }()
	tracing := Start(context.Background(), isolated(env)...)
	t.Cleanup(func() { _ = shutdown(t, tracing, 2*time.Second) })
	return tracing, out.String()
}

// startupSampler returns the sampler= value of the start-up line.
func startupSampler(t *testing.T, report string) string {
	t.Helper()
	var line string
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "flowtrace:") && strings.Contains(l, " sampler=") {
			line = l
		}
	}
	require.NotEmpty(t, line, "no start-up line in %q", report)
	v := line[strings.Index(line, " sampler=")+len(" sampler="):]
	if strings.HasPrefix(v, `"`) {
		q, err := strconv.QuotedPrefix(v)
		require.NoError(t, err)
		v, err = strconv.Unquote(q)
		require.NoError(t, err)
		return v
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

// TestStartupLineNamesTheRunningSampler: whatever the exporter and however
// it fails, the start-up line names the sampler the tracer runs, and that
// is the configured one (on 030e853, OTEL_TRACES_EXPORTER=none or an
// exporter that failed to build replaced it by parentbased{always_off}
// while the line still said always_on).
func TestStartupLineNamesTheRunningSampler(t *testing.T) {
	dir := t.TempDir()
	exporters := []struct {
		name string
		env  map[string]string
	}{
		{"otlp grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}},
		{"otlp http", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}},
		{"console file", map[string]string{"OTEL_TRACES_EXPORTER": "console", "FLOWTRACE_CONSOLE_FILE": filepath.Join(dir, "spans.jsonl")}},
		{"console file that cannot be opened", map[string]string{"OTEL_TRACES_EXPORTER": "console", "FLOWTRACE_CONSOLE_FILE": filepath.Join(dir, "missing", "spans.jsonl")}},
		{"otlp with a missing CA file", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://127.0.0.1:1", "OTEL_EXPORTER_OTLP_CERTIFICATE": filepath.Join(dir, "missing.pem")}},
		{"otlp with an unknown compression", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}},
		{"none", map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		{"disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}},
	}
	samplers := []map[string]string{
		{"OTEL_TRACES_SAMPLER": "always_on"},
		{"OTEL_TRACES_SAMPLER": "always_off"},
		{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
		{"OTEL_TRACES_SAMPLER": "parentbased_always_on"},
		{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25", "FLOWTRACE_SAMPLER_OPERATION_RATE": "5"},
	}
	for _, exp := range exporters {
		for _, smp := range samplers {
			env := map[string]string{"OTEL_SERVICE_NAME": "checkout"}
			for k, v := range exp.env {
				env[k] = v
			}
			for k, v := range smp {
				env[k] = v
			}
			t.Run(exp.name+"/"+smp["OTEL_TRACES_SAMPLER"], func(t *testing.T) {
				tracing, report := startReported(t, env)
				running := tracing.Tracer().Sampler().Description()
				require.Equal(t, running, startupSampler(t, report), "report:\n%s", report)
				if exp.name == "disabled" {
					require.Equal(t, "parentbased{always_off}", running, "a disabled SDK only follows its callers")
					return
				}
				want, _ := samplerFor(tracing.Config())
				require.Equal(t, want.Description(), running,
					"the configured sampler runs, with or without an exporter")
			})
		}
	}
}

// TestExporterNoneStillSamples: without an exporter the sampler still
// decides and the sampled flag travels (on 030e853 every root went out as
// "not sampled" and switched tracing off below).
func TestExporterNoneStillSamples(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want func(*tracer.SpanContext) bool
	}{
		{map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}, func(*tracer.SpanContext) bool { return true }},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, func(sc *tracer.SpanContext) bool {
			return tracer.ProbabilityThreshold(0.25).ShouldSample(tracer.SamplingParameters{TraceID: sc.TraceID()}.Randomness())
		}},
	} {
		tc.env["OTEL_TRACES_EXPORTER"] = "none"
		tracing, _ := startReported(t, tc.env)
		tr := tracing.Tracer()
		sampled := 0
		for i := 0; i < 200; i++ {
			sp := tr.StartSpan("root")
			sc := sp.Context().(*tracer.SpanContext)
			require.Equal(t, tc.want(sc), sc.IsSampled())
			h := http.Header{}
			require.NoError(t, tr.Inject(sp.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(h)))
			tp := h.Get("traceparent")
			require.Len(t, tp, 55)
			flags, err := strconv.ParseUint(tp[53:], 16, 8)
			require.NoError(t, err)
			require.Equal(t, sc.IsSampled(), flags&1 == 1, "the sampled flag travels: %s", tp)
			if sc.IsSampled() {
				sampled++
			}
			sp.Finish()
		}
		require.Positive(t, sampled)
		require.Zero(t, tracing.Stats().Tracer.Finished, "nothing is recorded")
	}
}

// TestDisabledPassesCallersContextThrough: a disabled service is invisible
// to the trace: what it sends on is what it received, sampled or not, with
// the caller's tracestate and flow id.
func TestDisabledPassesCallersContextThrough(t *testing.T) {
	tracing, _ := startReported(t, map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_PROPAGATORS": "tracecontext,baggage,flowid"})
	tr := tracing.Tracer()
	for _, tp := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
	} {
		in := http.Header{}
		in.Set("traceparent", tp)
		in.Set("tracestate", "ot=th:c,vendor=x")
		in.Set("X-Flow-ID", "incident-flow")
		parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(in))
		require.NoError(t, err)
		server := tr.StartSpan("handler", opentracing.ChildOf(parent))
		client := tr.StartSpan("call", opentracing.ChildOf(server.Context()))
		out := http.Header{}
		require.NoError(t, tr.Inject(client.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
		client.Finish()
		server.Finish()
		require.Equal(t, tp, out.Get("traceparent"), "the caller's context, unchanged")
		require.Equal(t, "ot=th:c,vendor=x", out.Get("tracestate"))
		require.Equal(t, "incident-flow", out.Get("X-Flow-ID"))
	}
	require.Zero(t, tracing.Stats().Tracer.Finished)
}

// TestDisabledRootImposesNoDecision is the field case: a disabled edge in
// front of a parent-based service. On 030e853 the edge sent traceparent
// ...-00 for the traces it started and the service below recorded nothing.
// Now the edge sends no trace context at all, the service below starts
// (and samples) its own trace, and the flow id still arrives.
func TestDisabledRootImposesNoDecision(t *testing.T) {
	rcv := newReceiver(t)
	below, _ := startReported(t, map[string]string{"OTEL_SERVICE_NAME": "catalog", "OTEL_EXPORTER_OTLP_ENDPOINT": rcv.GRPCEndpoint()})
	var got http.Header
	backend := httptest.NewServer(tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	}), tracehttp.WithTracer(below.Tracer())))
	defer backend.Close()

	edge, _ := startReported(t, map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_PROPAGATORS": "tracecontext,baggage,b3,jaeger,flowid"})
	client := &http.Client{Transport: tracehttp.NewTransport(nil, tracehttp.WithTracer(edge.Tracer()))}
	front := httptest.NewServer(tracehttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL+"/products", nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}), tracehttp.WithTracer(edge.Tracer()), tracehttp.WithPublicEndpoint()))
	defer front.Close()

	resp, err := http.Get(front.URL + "/browse")
	require.NoError(t, err)
	resp.Body.Close()
	flow := resp.Header.Get("X-Flow-ID")
	require.NotEmpty(t, flow, "the disabled edge still gives the request a flow id")
	for _, h := range []string{"traceparent", "tracestate", "b3", "uber-trace-id", "X-B3-Sampled"} {
		require.Empty(t, got.Get(h), "%s: a root of a disabled service imposes no decision", h)
	}
	require.Equal(t, flow, got.Get("X-Flow-ID"), "the flow id still travels")

	require.NoError(t, shutdown(t, below, 5*time.Second))
	spans := rcv.Spans()
	require.Len(t, spans, 1, "the service below samples the trace itself")
	require.Equal(t, flow, spans[0].Attributes["flow_id"])
	require.Empty(t, spans[0].ParentSpanID)
}
