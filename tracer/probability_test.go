package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
)

func TestThresholdEncoding(t *testing.T) {
	for _, tc := range []struct {
		p  float64
		th string
	}{
		{1, "0"}, {0.5, "8"}, {0.25, "c"}, {0.125, "e"}, {0.1, "e6666666666668"}, {1.0 / 3, "aaaaaaaaaaaab"},
	} {
		require.Equal(t, tc.th, encodeThreshold(tc.p), "p=%v", tc.p)
		p, ok := decodeThreshold(tc.th)
		require.True(t, ok)
		require.InDelta(t, tc.p, p, 1e-12)
	}
	for _, bad := range []string{"", "g", "123456789abcdef", "8A"} {
		_, ok := decodeThreshold(bad)
		require.False(t, ok, bad)
	}
}

func TestProbabilityTravelsInTraceState(t *testing.T) {
	upstream, upRec := newRecorded(WithSampler(alwaysWith(0.25)))
	root := upstream.StartSpan("edge")
	ts := ctxOf(root).PropagationContext().TraceState
	require.Equal(t, "ot=th:c", ts)

	h := opentracing.HTTPHeadersCarrier{}
	require.NoError(t, upstream.Inject(root.Context(), opentracing.HTTPHeaders, h))
	root.Finish()

	downstream, downRec := newRecorded()
	parent, err := downstream.Extract(opentracing.HTTPHeaders, h)
	require.NoError(t, err)
	child := downstream.StartSpan("catalog", opentracing.ChildOf(parent))
	grandchild := downstream.StartSpan("db", opentracing.ChildOf(child.Context()))
	grandchild.Finish()
	child.Finish()

	v, _ := attr(upRec.all()[0], SamplingProbabilityKey)
	require.Equal(t, 0.25, v)
	for _, d := range downRec.all() {
		v, ok := attr(d, SamplingProbabilityKey)
		require.True(t, ok, d.Name)
		require.Equal(t, 0.25, v, "%s records the root's probability", d.Name)
	}

	// Other ot sub-keys and other vendors' entries survive.
	require.Equal(t, "ot=th:8;rv:abcdef,vendor=x", withProbability("ot=th:c;rv:abcdef,vendor=x", 0.5))
}

// alwaysWith samples everything but reports probability p, as a sampler
// that decided by a ratio would.
type alwaysWith float64

func (a alwaysWith) ShouldSample(p SamplingParameters) SamplingDecision {
	if p.Parent.IsValid() {
		return ParentBased(nil).ShouldSample(p)
	}
	return SamplingDecision{Sampled: true, Probability: float64(a)}
}

func (a alwaysWith) Description() string { return "test" }
