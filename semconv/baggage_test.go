package semconv

import (
	"testing"

	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"
)

func TestRoutingValidation(t *testing.T) {
	for _, tc := range []struct {
		op, source string
		want       Routing
	}{
		{"checkout", "web", Routing{CriticalOperation: "checkout", TrafficSource: "web"}},
		{"add-to-cart", "load-test", Routing{CriticalOperation: "add-to-cart", TrafficSource: "load-test"}},
		{"Checkout", "WEB", Routing{}},
		{"free money", "bots", Routing{}},
		{"", "unknown", Routing{TrafficSource: "unknown"}},
		{"a" + string(make([]byte, 64)), "", Routing{}},
	} {
		got := Routing{CriticalOperation: tc.op, TrafficSource: tc.source}.Valid()
		require.Equal(t, tc.want, got, "%q %q", tc.op, tc.source)
	}
	require.False(t, ValidCriticalOperation(""))
	require.False(t, ValidTrafficSource(""))
	require.True(t, Default().ValidString("http.method", "GET"))
	require.False(t, Default().ValidString("http.status_code", "200"), "not a string tag")
	require.False(t, Default().ValidString("no.such.key", "x"))
}

func TestFromSpanContextAndTag(t *testing.T) {
	require.Equal(t, Routing{}, FromSpanContext(nil))
	tr := mocktracer.New()
	sp := tr.StartSpan("s").(*mocktracer.MockSpan)
	sp.SetBaggageItem(CriticalOperationKey, "checkout")
	sp.SetBaggageItem(TrafficSourceKey, "app")
	sp.SetBaggageItem("other", "x")
	r := FromSpanContext(sp.Context())
	require.Equal(t, Routing{CriticalOperation: "checkout", TrafficSource: "app"}, r)
	require.Equal(t, r, FromBaggage(sp))

	other := tr.StartSpan("o").(*mocktracer.MockSpan)
	r.Tag(other)
	require.Equal(t, "checkout", other.Tag(CriticalOperationKey))
	require.Equal(t, "app", other.Tag(TrafficSourceKey))
	require.Empty(t, other.BaggageItem(CriticalOperationKey), "Tag leaves baggage alone")
}
