package flowtrace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// TestStartAttributeCountLimit: OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT=0 keeps no
// attribute of the caller's (the specification's 0 is none, not
// unlimited), and at 1 the tracer's own sampling.probability does not take
// the caller's one slot. Over the wire, from the environment.
func TestStartAttributeCountLimit(t *testing.T) {
	rcv := newReceiver(t)
	for _, tc := range []struct {
		limit string
		user  int
	}{{"0", 0}, {"1", 1}, {"2", 2}} {
		t.Run(tc.limit, func(t *testing.T) {
			rcv.Reset()
			tracing := Start(context.Background(), isolated(map[string]string{
				"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": tc.limit,
				"OTEL_SPAN_EVENT_COUNT_LIMIT":     tc.limit,
				"OTEL_TRACES_SAMPLER":             "traceidratio",
				"OTEL_TRACES_SAMPLER_ARG":         "1",
			}, config.WithEndpoint(rcv.GRPCEndpoint()), config.WithProtocol(config.ProtocolGRPC))...)
			sp := tracing.Tracer().StartSpan("op")
			sp.SetTag("a", 1).SetTag("b", 2).SetTag("c", 3)
			sp.LogKV("i", 1)
			sp.LogKV("i", 2)
			sp.LogKV("i", 3)
			sp.Finish()
			require.NoError(t, shutdown(t, tracing, 5*time.Second))
			s := rcv.Spans()[0]
			user := 0
			for _, k := range []string{"a", "b", "c"} {
				if _, ok := s.Attributes[k]; ok {
					user++
				}
			}
			require.Equal(t, tc.user, user)
			require.Equal(t, 3-tc.user, s.DroppedAttributes)
			require.Equal(t, 1.0, s.Attributes[tracer.SamplingProbabilityKey])
			require.Len(t, s.Events, tc.user)
			require.Equal(t, 3-tc.user, s.DroppedEvents)
		})
	}
}

// TestStartBoundsStrings: a 3 MB span name, a 1 MB key, a huge event name
// and error message and a caller's 32-member tracestate do not reach the
// collector whole.
func TestStartBoundsStrings(t *testing.T) {
	rcv := newReceiver(t)
	tracing := Start(context.Background(), isolated(nil,
		config.WithEndpoint(rcv.GRPCEndpoint()), config.WithProtocol(config.ProtocolGRPC))...)
	tr := tracing.Tracer()
	members := make([]string, 32)
	for i := range members {
		members[i] = "k" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "=" + strings.Repeat("v", 250)
	}
	parent, err := tr.Extract(opentracing.TextMap, opentracing.TextMapCarrier{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tracestate":  strings.Join(members, ","),
	})
	require.NoError(t, err)
	sp := tr.StartSpan(strings.Repeat("n", 3<<20), opentracing.ChildOf(parent))
	sp.SetTag(strings.Repeat("k", 1<<20), "v")
	sp.LogFields(log.String("event", strings.Repeat("e", 1<<20)), log.Error(errors.New(strings.Repeat("m", 1<<20))))
	sp.Finish()
	require.NoError(t, shutdown(t, tracing, 5*time.Second))

	s := rcv.Spans()[0]
	lim := tracer.DefaultLimits()
	require.Len(t, s.Name, lim.NameLength)
	for k := range s.Attributes {
		require.LessOrEqual(t, len(k), lim.NameLength)
	}
	require.Equal(t, 1, s.DroppedAttributes)
	require.Len(t, s.Events[0].Name, lim.NameLength)
	require.LessOrEqual(t, len(s.Status.Message), lim.AttributeValueLength)
	require.LessOrEqual(t, len(s.TraceState), 512)
}

// TestStartValidatesRoutedBaggage: under Start, critical_operation and
// traffic_source from a caller's baggage must be values the conventions
// allow; others (here with a clean character set but not registered) are
// neither tagged nor propagated, and counted.
func TestStartValidatesRoutedBaggage(t *testing.T) {
	rcv := newReceiver(t)
	tracing := Start(context.Background(), isolated(nil,
		config.WithEndpoint(rcv.GRPCEndpoint()), config.WithProtocol(config.ProtocolGRPC))...)
	tr := tracing.Tracer()
	for _, tc := range []struct{ name, baggage string }{
		{"valid", "critical_operation=checkout,traffic_source=app"},
		{"unregistered", "critical_operation=Check-Out,traffic_source=robots"},
		{"control", "critical_operation=check%0D%0Aout,traffic_source=web%1B%5B2J"},
	} {
		parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier{
			"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
			"Baggage":     {tc.baggage},
		})
		require.NoError(t, err)
		sp := tr.StartSpan(tc.name, opentracing.ChildOf(parent))
		out := opentracing.TextMapCarrier{}
		require.NoError(t, tr.Inject(sp.Context(), opentracing.TextMap, out))
		if tc.name == "valid" {
			require.Contains(t, out["baggage"], "critical_operation=checkout")
		} else {
			require.NotContains(t, out["baggage"], "critical_operation", tc.name)
			require.NotContains(t, out["baggage"], "traffic_source", tc.name)
		}
		sp.Finish()
	}
	require.NoError(t, shutdown(t, tracing, 5*time.Second))
	require.Equal(t, uint64(4), tracing.Stats().Tracer.BaggageDropped)
	spans := map[string]tracetest.Span{}
	for _, s := range rcv.Spans() {
		spans[s.Name] = s
	}
	require.Len(t, spans, 3)
	for name, s := range spans {
		if name == "valid" {
			require.Equal(t, "checkout", s.Attributes["critical_operation"])
			require.Equal(t, "app", s.Attributes["traffic_source"])
			continue
		}
		require.NotContains(t, s.Attributes, "critical_operation", name)
		require.NotContains(t, s.Attributes, "traffic_source", name)
	}
}
