package flowtrace

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/propagation"
)

// acmePropagator is an organisation's own format, registered the way a
// service would register it before calling Start.
type acmePropagator struct{}

func (acmePropagator) Inject(s propagation.State, c propagation.Carrier) {
	if s.SpanContext.IsValid() {
		c.Set("X-Acme-Trace", s.SpanContext.TraceID.String())
	}
}

func (acmePropagator) Extract(_ propagation.Carrier, s propagation.State) propagation.State {
	return s
}

func (acmePropagator) Fields() []string { return []string{"X-Acme-Trace"} }

// The registry is process-wide and a name can be registered once: register
// at package init so that -count=N runs do not register it again.
func init() { propagation.Register("acme-test", acmePropagator{}) }

// startCapturing starts flowtrace with env and returns it with what it
// printed.
func startCapturing(t *testing.T, env map[string]string, opts ...config.Option) (*Tracing, string) {
	t.Helper()
	out := &lockedBuffer{}
	orig := stderr
	stderr = out
	defer func() { stderr = orig }()
	env["OTEL_TRACES_EXPORTER"] = "none"
	tracing := Start(context.Background(), isolated(env, opts...)...)
	t.Cleanup(func() { require.NoError(t, shutdown(t, tracing, time.Second)) })
	return tracing, out.String()
}

// incoming is a request from a caller that propagates everything flowtrace
// can read.
func incoming() http.Header {
	h := http.Header{}
	h.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.Set("baggage", "flow_id=from-baggage,k=v")
	h.Set("X-Flow-ID", "from-header")
	h.Set("b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")
	h.Set("uber-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1")
	return h
}

// TestPropagatorsNone is the field case of issue 14 item 5: with
// OTEL_PROPAGATORS=none the start-up line said none, yet Inject wrote
// traceparent and Extract adopted the caller's traceparent and baggage.
func TestPropagatorsNone(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		opts []config.Option
	}{
		{"environment", map[string]string{"OTEL_PROPAGATORS": "none"}, nil},
		{"environment, spaces and case", map[string]string{"OTEL_PROPAGATORS": " None "}, nil},
		{"option", map[string]string{}, []config.Option{config.WithPropagators("none")}},
		{"none with others", map[string]string{"OTEL_PROPAGATORS": "tracecontext,none,b3"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tracing, logs := startCapturing(t, tc.env, tc.opts...)
			require.Contains(t, logs, " propagators=none")
			require.Equal(t, []string{"none"}, tracing.Config().Propagators)
			tr := tracing.Tracer()

			_, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(incoming()))
			require.ErrorIs(t, err, opentracing.ErrSpanContextNotFound, "nothing is adopted")

			span := tr.StartSpan("root")
			span.SetBaggageItem("k", "v")
			out := http.Header{}
			require.NoError(t, tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
			span.Finish()
			require.Empty(t, out, "nothing is injected")
		})
	}
}

// TestPropagatorsNoneWithOthersWarnsOnce checks the one policy for "none"
// in a list: propagation is off, and one warning names what was left out.
func TestPropagatorsNoneWithOthersWarnsOnce(t *testing.T) {
	tracing, logs := startCapturing(t, map[string]string{"OTEL_PROPAGATORS": "tracecontext,none,b3"})
	require.Equal(t, 1, strings.Count(logs, "warning:"), logs)
	require.Contains(t, logs, `"none"`)
	require.Contains(t, logs, `"tracecontext", "b3"`)
	require.Contains(t, logs, "warnings=1")
	require.Len(t, tracing.Config().Warnings, 1)
}

// TestPropagatorsRegisteredByName: a name registered with
// propagation.Register is reachable from OTEL_PROPAGATORS; config used to
// drop it against a hard-coded list.
func TestPropagatorsRegisteredByName(t *testing.T) {
	tracing, logs := startCapturing(t, map[string]string{"OTEL_PROPAGATORS": "tracecontext,ACME-test"})
	require.NotContains(t, logs, "warning")
	require.Contains(t, logs, " propagators=tracecontext,acme-test")
	tr := tracing.Tracer()
	span := tr.StartSpan("root")
	out := http.Header{}
	require.NoError(t, tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
	span.Finish()
	require.NotEmpty(t, out.Get("traceparent"))
	require.Equal(t, span.Context().(interface{ TraceID() propagation.TraceID }).TraceID().String(), out.Get("X-Acme-Trace"))
}

// TestPropagatorsUnknownNames: unknown names are one warning, listing them
// all, and the start-up line shows what is in effect.
func TestPropagatorsUnknownNames(t *testing.T) {
	for _, tc := range []struct {
		name, env    string
		wantLine     string
		wantWarning  string
		wantInjected []string
	}{
		{"some unknown", "tracecontext,xray,b3,ottrace", " propagators=tracecontext,b3", `"xray", "ottrace"`, []string{"Traceparent", "B3"}},
		// A setting with nothing usable keeps its default, as every other
		// malformed setting does: a typo must not switch propagation off.
		{"all unknown", "xray,ottrace", " propagators=tracecontext,baggage,flowid", `"xray", "ottrace"`, []string{"Traceparent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tracing, logs := startCapturing(t, map[string]string{"OTEL_PROPAGATORS": tc.env})
			require.Equal(t, 1, strings.Count(logs, "warning:"), logs)
			require.Contains(t, logs, tc.wantWarning)
			require.Contains(t, logs, tc.wantLine)
			require.Contains(t, logs, "warnings=1")
			tr := tracing.Tracer()
			span := tr.StartSpan("root")
			out := http.Header{}
			require.NoError(t, tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
			span.Finish()
			var keys []string
			for k := range out {
				keys = append(keys, k)
			}
			require.ElementsMatch(t, tc.wantInjected, keys)
		})
	}
}
