package propagation

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestB3JaegerSamplingState is issue 14 item 11 at the wire: a B3 header
// without a sampling state is a deferred decision, B3 debug and Jaeger's
// debug bit are debug, and a context passed through (extracted, injected
// again without a new decision) says the same thing it was given. On
// 030e853 a deferred b3 came out as -0 (deny) and debug as plain 1.
func TestB3JaegerSamplingState(t *testing.T) {
	t.Parallel()
	id := b3Trace + "-" + b3Span
	jid := b3Trace + ":" + b3Span + ":0:"
	tests := []struct {
		name     string
		p        Propagator
		in       MapCarrier
		deferred bool
		debug    bool
		sampled  bool
		out      MapCarrier // what Inject writes for the extracted context
	}{
		{"b3 deferred", B3{}, MapCarrier{"b3": id}, true, false, false, MapCarrier{"b3": id}},
		{"b3 deferred with parent field absent", B3{}, MapCarrier{"b3": " " + id + " "}, true, false, false, MapCarrier{"b3": id}},
		{"b3 accept", B3{}, MapCarrier{"b3": id + "-1"}, false, false, true, MapCarrier{"b3": id + "-1"}},
		{"b3 deny", B3{}, MapCarrier{"b3": id + "-0"}, false, false, false, MapCarrier{"b3": id + "-0"}},
		{"b3 debug", B3{}, MapCarrier{"b3": id + "-d"}, false, true, true, MapCarrier{"b3": id + "-d"}},
		{"b3 debug with parent", B3{}, MapCarrier{"b3": id + "-d-05e3ac9a4f6e3b90"}, false, true, true, MapCarrier{"b3": id + "-d"}},
		{
			"b3multi deferred", B3Multi{}, MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span}, true, false, false,
			MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span},
		},
		{
			"b3multi debug", B3Multi{}, MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Flags": "1"}, false, true, true,
			// Debug implies accept: B3 asks not to send X-B3-Sampled beside it.
			MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Flags": "1"},
		},
		{
			"b3multi debug overrides deny", B3Multi{}, MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "0", "X-B3-Flags": "1"}, false, true, true,
			MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Flags": "1"},
		},
		{
			"b3multi accept", B3Multi{}, MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "true"}, false, false, true,
			MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "1"},
		},
		{"b3multi reads single deferred", B3Multi{}, MapCarrier{"b3": id}, true, false, false, MapCarrier{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span}},
		{"jaeger sampled", Jaeger{}, MapCarrier{"uber-trace-id": jid + "1"}, false, false, true, MapCarrier{"uber-trace-id": jid + "1"}},
		{"jaeger not sampled", Jaeger{}, MapCarrier{"uber-trace-id": jid + "0"}, false, false, false, MapCarrier{"uber-trace-id": jid + "0"}},
		{"jaeger debug", Jaeger{}, MapCarrier{"uber-trace-id": jid + "3"}, false, true, true, MapCarrier{"uber-trace-id": jid + "3"}},
		{"jaeger debug alone implies sampled", Jaeger{}, MapCarrier{"uber-trace-id": jid + "2"}, false, true, true, MapCarrier{"uber-trace-id": jid + "3"}},
		{"jaeger other bits", Jaeger{}, MapCarrier{"uber-trace-id": jid + "9"}, false, false, true, MapCarrier{"uber-trace-id": jid + "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.p.Extract(tt.in, State{})
			sc := s.SpanContext
			require.True(t, sc.IsValid())
			require.Equal(t, tt.deferred, sc.Deferred, "deferred")
			require.Equal(t, tt.debug, sc.Debug, "debug")
			require.Equal(t, tt.sampled, sc.IsSampled(), "sampled")
			out := MapCarrier{}
			tt.p.Inject(s, out)
			require.Equal(t, tt.out, out)
		})
	}

	// Formats without the notion write what they can: W3C has neither a
	// deferred state nor debug, Jaeger has no deferred state.
	deferred := State{SpanContext: SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Deferred: true}}
	out := MapCarrier{}
	Composite(TraceContext{}, Jaeger{}).Inject(deferred, out)
	require.Equal(t, "00-01000000000000000000000000000000-0200000000000000-00", out["traceparent"])
	require.Equal(t, "01000000000000000000000000000000:0200000000000000:0:0", out["uber-trace-id"])
	debug := State{SpanContext: SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Flags: FlagSampled, Debug: true}}
	out = MapCarrier{}
	TraceContext{}.Inject(debug, out)
	require.Equal(t, "00-01000000000000000000000000000000-0200000000000000-01", out["traceparent"])
	require.Equal(t, SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Flags: FlagSampled}, TraceContext{}.Extract(out, State{}).SpanContext)
}

// TestTraceContextAndJaegerDisagree documents which header wins when a
// request carries both traceparent and uber-trace-id and they disagree (ids,
// sampled flag, debug): the first name in the list whose header is valid
// supplies the whole span context, and nothing of the other is merged in.
// With the usual "tracecontext,jaeger", traceparent wins.
func TestTraceContextAndJaegerDisagree(t *testing.T) {
	t.Parallel()
	c := HeaderCarrier{}
	c.Set("traceparent", "00-"+tpTraceID+"-00f067aa0ba902b7-00")
	c.Set("uber-trace-id", b3Trace+":"+b3Span+":0:3")

	sel := Select([]string{"tracecontext", "jaeger"})
	sc := sel.Propagator.Extract(c, State{}).SpanContext
	require.Equal(t, tpTraceID, sc.TraceID.String())
	require.False(t, sc.IsSampled(), "traceparent's -00 wins over uber-trace-id's flags 3")
	require.False(t, sc.Debug, "no debug bit is taken from the losing header")

	sel = Select([]string{"jaeger", "tracecontext"})
	sc = sel.Propagator.Extract(c, State{}).SpanContext
	require.Equal(t, b3Trace, sc.TraceID.String())
	require.True(t, sc.IsSampled())
	require.True(t, sc.Debug)

	// An invalid first header does not hide a valid second one.
	c.Set("traceparent", "00-"+tpTraceID+"-0000000000000000-01")
	sc = Select([]string{"tracecontext", "jaeger"}).Propagator.Extract(c, State{}).SpanContext
	require.Equal(t, b3Trace, sc.TraceID.String())
	require.True(t, sc.Debug)
}
