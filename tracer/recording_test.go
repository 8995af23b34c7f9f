package tracer

import (
	"net/http"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
)

// TestNonRecordingKeepsTheSampler: recording and sampling are separate; on
// 030e853 NonRecording replaced the sampler with parentbased{always_off}.
func TestNonRecordingKeepsTheSampler(t *testing.T) {
	for _, opts := range [][]Option{
		{WithSampler(AlwaysOn()), NonRecording()},
		{NonRecording(), WithSampler(AlwaysOn())},
	} {
		tr, rec := newRecorded(opts...)
		require.Equal(t, "always_on", tr.Sampler().Description())
		sp := tr.StartSpan("root")
		require.True(t, ctxOf(sp).IsSampled(), "the decision is made and travels")
		sp.Finish()
		require.Empty(t, rec.all(), "and nothing is recorded")
	}
}

// TestPassThrough: the tracer of a disabled SDK hands its caller's context
// on as it came, and a span with no caller has no trace context.
func TestPassThrough(t *testing.T) {
	tr, rec := newRecorded(PassThrough())
	up := New(WithSampler(TraceIDRatio(1)))
	caller := up.StartSpan("caller")
	caller.SetBaggageItem(FlowIDKey, "f-1")
	h := http.Header{}
	require.NoError(t, up.Inject(caller.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(h)))
	parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(h))
	require.NoError(t, err)

	child := tr.StartSpan("child", opentracing.ChildOf(parent))
	grandchild := tr.StartSpan("grandchild", opentracing.ChildOf(child.Context()))
	require.Equal(t, ctxOf(caller).PropagationContext(), ctxOf(grandchild).PropagationContext())
	require.Equal(t, "f-1", grandchild.BaggageItem(FlowIDKey))
	grandchild.Finish()
	child.Finish()

	root := tr.StartSpan("root")
	require.False(t, ctxOf(root).IsValid())
	root.SetBaggageItem(FlowIDKey, "f-2")
	out := http.Header{}
	require.NoError(t, tr.Inject(tr.StartSpan("call", opentracing.ChildOf(root.Context())).Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
	require.Empty(t, out.Get("traceparent"))
	require.Equal(t, "f-2", out.Get("X-Flow-ID"))
	root.Finish()
	require.Empty(t, rec.all())
	require.Equal(t, uint64(4), tr.Stats().Started)
	require.Zero(t, tr.Stats().Sampled)
}
