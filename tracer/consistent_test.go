package tracer

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/sampling"
	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/flowtrace/flowtrace/propagation"
)

// The cross-tests hold flowtrace's consistent sampling against the
// collector's own implementation of OTEP 235 (collector-contrib
// pkg/sampling, what the probabilistic sampler processor runs), over
// random trace ids and randomness values, in both directions.

var crossProbabilities = []float64{1, 0.5, 0.25, 0.1, 1.0 / 3, 0.01, 0.001}

const crossIDs = 4000

// theirState parses a tracestate with the collector's parser.
func theirState(t *testing.T, ts string) *sampling.OpenTelemetryTraceState {
	t.Helper()
	w3c, err := sampling.NewW3CTraceState(ts)
	require.NoError(t, err, "tracestate %q", ts)
	return w3c.OTelValue()
}

// TestRatioSamplerAgreesWithCollector: for each trace flowtrace starts, its
// ratio sampler keeps it iff the collector's threshold for the same
// probability does, and the th it publishes is the collector's, read back
// by the collector's parser with the adjusted count flowtrace records.
// On 030e853 flowtrace kept R < p·2^56 but published T = (1-p)·2^56: the
// complement of the collector's set.
func TestRatioSamplerAgreesWithCollector(t *testing.T) {
	for _, p := range crossProbabilities {
		theirs, err := sampling.ProbabilityToThreshold(p)
		require.NoError(t, err)
		require.Equal(t, theirs.TValue(), ProbabilityThreshold(p).TValue(), "th for p=%v", p)
		require.Equal(t, theirs.Probability(), ProbabilityThreshold(p).Probability(), "p=%v", p)

		tr, rec := newRecorded(WithSampler(TraceIDRatio(p)))
		kept := 0
		for i := 0; i < crossIDs; i++ {
			sp := tr.StartSpan("root")
			sc := ctxOf(sp)
			want := theirs.ShouldSample(sampling.TraceIDToRandomness(pcommon.TraceID(sc.TraceID())))
			require.Equal(t, want, sc.IsSampled(), "p=%v trace %s", p, sc.TraceID())
			otts := theirState(t, sc.PropagationContext().TraceState)
			if !want {
				require.Empty(t, otts.TValue(), "an unsampled span publishes no th")
				continue
			}
			kept++
			th, ok := otts.TValueThreshold()
			require.True(t, ok, "a sampled span publishes th (p=%v)", p)
			require.Equal(t, theirs, th)
			sp.Finish()
			v, _ := attr(rec.all()[len(rec.all())-1], SamplingProbabilityKey)
			require.Equal(t, 1/otts.AdjustedCount(), v, "sampling.probability is the collector's 1/adjusted count")
		}
		require.InDelta(t, p, float64(kept)/crossIDs, 0.05, "p=%v", p)
	}
}

// TestRatioSamplerHonoursCallersRandomness: an explicit rv in the caller's
// ot entry replaces the trace id's bits, for flowtrace as for the
// collector, and travels on unchanged.
func TestRatioSamplerHonoursCallersRandomness(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range crossProbabilities {
		theirs, err := sampling.ProbabilityToThreshold(p)
		require.NoError(t, err)
		tr := New(WithSampler(TraceIDRatio(p)))
		for i := 0; i < crossIDs/4; i++ {
			rnd, err := sampling.UnsignedToRandomness(rng.Uint64() & (1<<56 - 1))
			require.NoError(t, err)
			var otts sampling.OpenTelemetryTraceState
			otts.SetRValue(rnd)
			var b strings.Builder
			require.NoError(t, otts.Serialize(&b))
			parent := remoteParent(t, newTraceID(), rng.IntN(2) == 0, "ot="+b.String()+",vendor=x")
			sc := ctxOf(tr.StartSpan("child", opentracing.ChildOf(parent)))
			require.Equal(t, theirs.ShouldSample(rnd), sc.IsSampled(), "p=%v rv=%s", p, rnd.RValue())
			got := theirState(t, sc.PropagationContext().TraceState)
			require.Equal(t, rnd.RValue(), got.RValue(), "rv is never changed")
			require.Contains(t, sc.PropagationContext().TraceState, "vendor=x")
		}
	}
}

// TestParentBasedHonoursCollectorThreshold: a caller (here the collector's
// code, deciding and writing th) sampled a trace; a flowtrace service below
// it follows the decision, keeps th and records the caller's probability.
// When the caller's sampled flag contradicts its th, the child erases th
// and records no probability, rather than pass the false one on.
func TestParentBasedHonoursCollectorThreshold(t *testing.T) {
	for _, p := range crossProbabilities[1:] {
		theirs, err := sampling.ProbabilityToThreshold(p)
		require.NoError(t, err)
		tr, rec := newRecorded() // parentbased{always_on}
		for i := 0; i < crossIDs/4; i++ {
			id := newTraceID()
			want := theirs.ShouldSample(sampling.TraceIDToRandomness(pcommon.TraceID(id)))
			var otts sampling.OpenTelemetryTraceState
			require.NoError(t, otts.UpdateTValueWithSampling(theirs))
			var b strings.Builder
			require.NoError(t, otts.Serialize(&b))
			ts := "ot=" + b.String()

			// A consistent caller: sampled exactly when its threshold says.
			child := tr.StartSpan("child", opentracing.ChildOf(remoteParent(t, id, want, ts)))
			sc := ctxOf(child)
			require.Equal(t, want, sc.IsSampled())
			got := theirState(t, sc.PropagationContext().TraceState)
			if want {
				require.Equal(t, theirs.TValue(), got.TValue(), "th travels on")
				child.Finish()
				v, _ := attr(rec.all()[len(rec.all())-1], SamplingProbabilityKey)
				require.Equal(t, theirs.Probability(), v)
			} else {
				require.Empty(t, got.TValue(), "an unsampled span carries no th")
			}

			// An inconsistent one: the flag says the opposite of th.
			child = tr.StartSpan("child", opentracing.ChildOf(remoteParent(t, id, !want, ts)))
			sc = ctxOf(child)
			require.Equal(t, !want, sc.IsSampled(), "the caller's decision is followed")
			require.Empty(t, theirState(t, sc.PropagationContext().TraceState).TValue(), "a th that did not make the decision is erased")
			if !want {
				n := len(rec.all())
				child.Finish()
				_, ok := attr(rec.all()[n], SamplingProbabilityKey)
				require.False(t, ok, "no probability is known")
			}
		}
	}
}

// remoteParent is what Extract gives for a caller's traceparent and
// tracestate.
func remoteParent(t *testing.T, id propagation.TraceID, sampled bool, ts string) opentracing.SpanContext {
	t.Helper()
	flags := "00"
	if sampled {
		flags = "01"
	}
	h := http.Header{}
	h.Set("traceparent", "00-"+id.String()+"-"+newSpanID().String()+"-"+flags)
	h.Set("tracestate", ts)
	parent, err := New().Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(h))
	require.NoError(t, err)
	return parent
}

// TestDecisionsWithoutThresholdEraseIt: a rate limit and a forced trace
// were not decided by the trace's randomness, so they publish no th (on
// 030e853 RateLimited published its acceptance ratio, and a forced trace
// kept the ratio sampler's th and probability).
func TestDecisionsWithoutThresholdEraseIt(t *testing.T) {
	// Find a trace id the ratio sampler keeps at 0.25, and one it drops.
	var keptID, droppedID propagation.TraceID
	ratio := TraceIDRatio(0.25)
	for !keptID.IsValid() || !droppedID.IsValid() {
		id := newTraceID()
		if ratio.ShouldSample(SamplingParameters{TraceID: id}).Sampled {
			keptID = id
		} else {
			droppedID = id
		}
	}
	forced := opentracing.Tag{Key: string(ext.SamplingPriority), Value: 1}
	for _, tc := range []struct {
		name    string
		sampler Sampler
		id      propagation.TraceID
		opts    []opentracing.StartSpanOption
		prob    float64
	}{
		{"rate limited", RateLimited(1000, 10, TraceIDRatio(0.25)), keptID, nil, 0.25},
		{"forced, ratio also kept it", TraceIDRatio(0.25), keptID, []opentracing.StartSpanOption{forced}, 1},
		{"forced, ratio dropped it", TraceIDRatio(0.25), droppedID, []opentracing.StartSpanOption{forced}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, rec := newRecorded(WithSampler(tc.sampler))
			// The caller sends rv = the chosen trace id's bits, so the
			// decision is the one the test picked; its own th is false.
			rv := tc.id.String()[18:]
			parent := remoteParent(t, tc.id, false, "ot=th:0;rv:"+rv)
			sp := tr.StartSpan("root", append(tc.opts, opentracing.ChildOf(parent))...)
			sc := ctxOf(sp)
			require.True(t, sc.IsSampled())
			ts := sc.PropagationContext().TraceState
			require.Empty(t, theirState(t, ts).TValue(), "th erased from %q", ts)
			require.Equal(t, "ot=rv:"+rv, ts, "rv kept")
			sp.Finish()
			v, _ := attr(rec.all()[0], SamplingProbabilityKey)
			require.Equal(t, tc.prob, v)
		})
	}
}
