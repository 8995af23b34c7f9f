package tracer

import (
	"net/http"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
)

const (
	flagsTrace = "80f198ee56343ba864fe8b2a57d3eff7"
	flagsSpan  = "e457b5a2e4d86bd1"
)

// hop extracts in from a caller, starts a server span as its child and
// injects the span's context for the next call, as a service between two
// others does.
func hop(t *testing.T, tr *Tracer, in http.Header) (opentracing.Span, http.Header) {
	t.Helper()
	parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(in))
	require.NoError(t, err)
	span := tr.StartSpan("handle", opentracing.ChildOf(parent))
	out := http.Header{}
	require.NoError(t, tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
	return span, out
}

// TestB3DeferredDecisionIsLocal is issue 14 item 11's first field case: a
// caller that sends b3 without a sampling state leaves the decision to this
// service. On 030e853 the parent-based sampler read the missing state as
// "not sampled", so the span was dropped and the next hop got -0 (deny)
// whatever the local sampler said.
func TestB3DeferredDecisionIsLocal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sampler Sampler
		sampled bool
	}{
		{"parentbased always_on", ParentBased(AlwaysOn()), true},
		{"parentbased always_off", ParentBased(AlwaysOff()), false},
		{"parentbased ratio 1", ParentBased(TraceIDRatio(1)), true},
		{"parentbased ratio 0", ParentBased(TraceIDRatio(0)), false},
	} {
		for _, fmt := range []struct {
			name string
			p    propagation.Propagator
			in   http.Header
		}{
			{"b3", propagation.B3{}, http.Header{"B3": {flagsTrace + "-" + flagsSpan}}},
			{"b3multi", propagation.B3Multi{}, http.Header{"X-B3-Traceid": {flagsTrace}, "X-B3-Spanid": {flagsSpan}}},
		} {
			t.Run(tc.name+"/"+fmt.name, func(t *testing.T) {
				var rec recorder
				tr := New(WithSampler(tc.sampler), WithPropagator(fmt.p), WithProcessor(&rec))
				span, out := hop(t, tr, fmt.in)
				span.Finish()
				sc := span.Context().(*SpanContext)
				require.Equal(t, flagsTrace, sc.TraceID().String(), "the caller's trace continues")
				require.Equal(t, tc.sampled, sc.IsSampled(), "the local sampler decided")
				require.Len(t, rec.all(), map[bool]int{true: 1, false: 0}[tc.sampled])
				want := map[bool]string{true: "1", false: "0"}[tc.sampled]
				if fmt.name == "b3" {
					require.Equal(t, flagsTrace+"-"+sc.SpanID().String()+"-"+want, out.Get("b3"), "the next hop hears the decision")
				} else {
					require.Equal(t, want, out.Get("X-B3-Sampled"))
				}
			})
		}
	}
}

// TestDebugForcesSampling is item 11's second field case: B3 debug (d,
// X-B3-Flags: 1) and uber-trace-id's debug bit (flags 3) came out as a
// plain sampled 1, and a sampler that is not parent-based could drop the
// trace. Debug is forced sampling, as sampling.priority is (recorded with
// probability 1, no th), and the debug flag travels on, to grandchildren
// too.
func TestDebugForcesSampling(t *testing.T) {
	for _, fmt := range []struct {
		name string
		p    propagation.Propagator
		in   http.Header
		want func(out http.Header, span string) bool
	}{
		{"b3 d", propagation.B3{}, http.Header{"B3": {flagsTrace + "-" + flagsSpan + "-d"}},
			func(out http.Header, span string) bool { return out.Get("b3") == flagsTrace+"-"+span+"-d" }},
		{"X-B3-Flags 1", propagation.B3Multi{}, http.Header{"X-B3-Traceid": {flagsTrace}, "X-B3-Spanid": {flagsSpan}, "X-B3-Flags": {"1"}},
			func(out http.Header, _ string) bool {
				return out.Get("X-B3-Flags") == "1" && out.Get("X-B3-Sampled") == ""
			}},
		{"uber-trace-id flags 3", propagation.Jaeger{}, http.Header{"Uber-Trace-Id": {flagsTrace + ":" + flagsSpan + ":0:3"}},
			func(out http.Header, span string) bool { return out.Get("uber-trace-id") == flagsTrace+":"+span+":0:3" }},
	} {
		for _, sampler := range []Sampler{AlwaysOff(), TraceIDRatio(0), ParentBased(AlwaysOff())} {
			t.Run(fmt.name+"/"+sampler.Description(), func(t *testing.T) {
				var rec recorder
				tr := New(WithSampler(sampler), WithPropagator(fmt.p), WithProcessor(&rec))
				span, out := hop(t, tr, fmt.in)
				child := tr.StartSpan("child", opentracing.ChildOf(span.Context()))
				childOut := http.Header{}
				require.NoError(t, tr.Inject(child.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(childOut)))
				child.Finish()
				span.Finish()
				sc := span.Context().(*SpanContext)
				require.True(t, sc.IsSampled(), "debug forces sampling")
				require.True(t, fmt.want(out, sc.SpanID().String()), "debug travels on: %v", out)
				require.True(t, fmt.want(childOut, child.Context().(*SpanContext).SpanID().String()), "and on from a child: %v", childOut)
				spans := rec.all()
				require.Len(t, spans, 2)
				for _, s := range spans {
					p, _ := attr(s, SamplingProbabilityKey)
					require.Equal(t, 1.0, p, "a forced trace stands for itself")
					_, hasTH := propagation.TraceStateGet(s.SpanContext.TraceState, "ot")
					require.False(t, hasTH)
				}
			})
		}
	}
}

// TestDebugYieldsToExplicitPriorityZero: a span's own sampling.priority=0
// still turns sampling off; the debug flag is then not sent on, since debug
// implies sampled.
func TestDebugYieldsToExplicitPriorityZero(t *testing.T) {
	tr := New(WithPropagator(propagation.B3{}))
	parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(http.Header{"B3": {flagsTrace + "-" + flagsSpan + "-d"}}))
	require.NoError(t, err)
	span := tr.StartSpan("handle", opentracing.ChildOf(parent), opentracing.Tag{Key: "sampling.priority", Value: 0})
	out := http.Header{}
	require.NoError(t, tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
	span.Finish()
	require.False(t, span.Context().(*SpanContext).IsSampled())
	require.Equal(t, flagsTrace+"-"+span.Context().(*SpanContext).SpanID().String()+"-0", out.Get("b3"))
}

// TestDeferredPassThrough: a context that is extracted and injected again
// without a span in between (a proxy) carries no decision of this process,
// so it stays deferred.
func TestDeferredPassThrough(t *testing.T) {
	tr := New(WithPropagator(propagation.B3{}))
	parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(http.Header{"B3": {flagsTrace + "-" + flagsSpan}}))
	require.NoError(t, err)
	out := http.Header{}
	require.NoError(t, tr.Inject(parent, opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(out)))
	require.Equal(t, flagsTrace+"-"+flagsSpan, out.Get("b3"))
}
