package instr

import (
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/semconv"
)

// incoming returns an extracted-like context carrying baggage.
func incoming(bag map[string]string) opentracing.SpanContext {
	tr := mocktracer.New()
	sp := tr.StartSpan("caller")
	for k, v := range bag {
		sp.SetBaggageItem(k, v)
	}
	return sp.Context()
}

func TestDecide(t *testing.T) {
	t.Parallel()
	hostile := map[string]string{"critical_operation": "free", "traffic_source": "load-test"}
	trusted := map[string]string{"critical_operation": "checkout", "traffic_source": "app"}
	invalid := map[string]string{"critical_operation": "Free Money!", "traffic_source": "bots"}
	rule := func(v string) func() string { return func() string { return v } }
	for _, tc := range []struct {
		name  string
		rules Rules
		bag   map[string]string
		want  Decision
	}{
		{"no rules, no baggage", Rules{}, nil, Decision{}},
		{"no rules: trusted baggage is inherited", Rules{}, trusted,
			Decision{Inherited: semconv.Routing{CriticalOperation: "checkout", TrafficSource: "app"}}},
		{"public: baggage discarded, traffic unknown", Rules{Public: true}, hostile,
			Decision{Own: semconv.Routing{TrafficSource: "unknown"}}},
		{"public edge rules", Rules{Public: true, Critical: rule("checkout"), Traffic: rule("web")}, hostile,
			Decision{Own: semconv.Routing{CriticalOperation: "checkout", TrafficSource: "web"}, Force: true}},
		{"public, not a critical route", Rules{Public: true, Critical: rule(""), Traffic: rule("app")}, hostile,
			Decision{Own: semconv.Routing{TrafficSource: "app"}}},
		{"trusted baggage wins over the rules", Rules{Critical: rule("payment"), Traffic: rule("web")}, trusted,
			Decision{Inherited: semconv.Routing{CriticalOperation: "checkout", TrafficSource: "app"}}},
		{"invalid baggage is replaced by the rules", Rules{Critical: rule("payment"), Traffic: rule("push")}, invalid,
			Decision{Own: semconv.Routing{CriticalOperation: "payment", TrafficSource: "push"}, Force: true}},
		{"invalid rule results", Rules{Critical: rule("Not Valid"), Traffic: rule("robots")}, nil,
			Decision{Own: semconv.Routing{TrafficSource: "unknown"}}},
		{"rate cap exhausted: named, not forced",
			Rules{Critical: rule("checkout"), Limit: exhausted("checkout")}, nil,
			Decision{Own: semconv.Routing{CriticalOperation: "checkout"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in opentracing.SpanContext
			if tc.bag != nil {
				in = incoming(tc.bag)
			}
			require.Equal(t, tc.want, tc.rules.Decide(in))
		})
	}
}

func exhausted(op string) *tokenbucket.Limiter {
	l := tokenbucket.NewLimiter(tokenbucket.PerSecond(1), MaxCriticalOperations, func() time.Time { return time.Unix(1000, 0) })
	l.Allow(op)
	return l
}

func TestTagFromBaggage(t *testing.T) {
	t.Parallel()
	tr := mocktracer.New()
	sp := tr.StartSpan("s").(*mocktracer.MockSpan)
	sp.SetBaggageItem("traffic_source", "app")
	semconv.Routing{CriticalOperation: "checkout"}.Apply(sp)
	require.Equal(t, "checkout", sp.BaggageItem("critical_operation"))
	require.Equal(t, "checkout", sp.Tag("critical_operation"))

	child := tr.StartSpan("c", opentracing.ChildOf(sp.Context())).(*mocktracer.MockSpan)
	TagFromBaggage(child)
	require.Equal(t, "checkout", child.Tag("critical_operation"))
	require.Equal(t, "app", child.Tag("traffic_source"))
}

func TestTrafficSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "unknown"},
		{[]string{"app"}, "app"},
		{[]string{"load-test"}, "load-test"},
		{[]string{"bots"}, "unknown"},
		{[]string{"app", "web"}, "unknown"},
		{[]string{""}, "unknown"},
	} {
		require.Equal(t, tc.want, TrafficSource(tc.in), "%q", tc.in)
	}
}
