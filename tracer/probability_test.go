package tracer

import (
	"strings"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
)

func TestThresholdEncoding(t *testing.T) {
	for _, tc := range []struct {
		p  float64
		th string
	}{
		{1, "0"}, {0.5, "8"}, {0.25, "c"}, {0.125, "e"}, {0.1, "e6666666666666"}, {1.0 / 3, "aaaaaaaaaaaaac"}, {0.001, "ffbe76c8b43958"},
	} {
		require.Equal(t, tc.th, ProbabilityThreshold(tc.p).TValue(), "p=%v", tc.p)
		th, ok := ParseThreshold(tc.th)
		require.True(t, ok)
		require.Equal(t, ProbabilityThreshold(tc.p), th)
		require.InDelta(t, tc.p, th.Probability(), 1e-12)
	}
	for _, bad := range []string{"", "g", "123456789abcdef", "8A", "-1", "+8"} {
		_, ok := ParseThreshold(bad)
		require.False(t, ok, bad)
	}
	require.Empty(t, ProbabilityThreshold(0).TValue(), "a threshold that samples nothing is not published")
	require.Empty(t, Threshold{}.TValue())
	require.False(t, Threshold{}.ShouldSample(1<<56-1), "the zero Threshold decides nothing")
	require.True(t, ProbabilityThreshold(1).ShouldSample(0))
	require.False(t, ProbabilityThreshold(0).ShouldSample(1<<56-1))
}

func TestProbabilityTravelsInTraceState(t *testing.T) {
	upstream, upRec := newRecorded(WithSampler(TraceIDRatio(0.25)))
	root := upstream.StartSpan("edge")
	for !ctxOf(root).IsSampled() {
		root = upstream.StartSpan("edge")
	}
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
	require.Equal(t, "ot=th:8;rv:abcdef,vendor=x", withThreshold("ot=th:c;rv:abcdef,vendor=x", ProbabilityThreshold(0.5)))
	require.Equal(t, "ot=rv:abcdef,vendor=x", withThreshold("ot=th:c;rv:abcdef,vendor=x", Threshold{}), "erased, rv kept")
	require.Equal(t, "vendor=x", withThreshold("ot=th:c,vendor=x", Threshold{}), "an ot entry left empty goes")
	require.Equal(t, "vendor=x", withThreshold("vendor=x", Threshold{}))
	// An ot value with no room for th (256 characters at most): the entry
	// goes rather than keep its stale th.
	full := "ot=th:8;x:" + strings.Repeat("a", 246) + ",vendor=x"
	require.Equal(t, "vendor=x", withThreshold(full, ProbabilityThreshold(0.1)))
}
