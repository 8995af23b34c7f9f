package propagation_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	b3prop "go.opentelemetry.io/contrib/propagators/b3"
	jaegerprop "go.opentelemetry.io/contrib/propagators/jaeger"
	otelbaggage "go.opentelemetry.io/otel/baggage"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/propagation"
)

var (
	interopTrace = propagation.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	interopSpan  = propagation.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func otelContext(t *testing.T, flags trace.TraceFlags, ts string) context.Context {
	state, err := trace.ParseTraceState(ts)
	require.NoError(t, err)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID(interopTrace), SpanID: trace.SpanID(interopSpan),
		TraceFlags: flags, TraceState: state, Remote: true,
	})
	return trace.ContextWithRemoteSpanContext(context.Background(), sc)
}

func requireSameContext(t *testing.T, ours propagation.SpanContext, theirs trace.SpanContext, withState bool) {
	t.Helper()
	require.True(t, ours.IsValid())
	require.True(t, theirs.IsValid())
	require.Equal(t, [16]byte(theirs.TraceID()), [16]byte(ours.TraceID))
	require.Equal(t, [8]byte(theirs.SpanID()), [8]byte(ours.SpanID))
	require.Equal(t, theirs.IsSampled(), ours.IsSampled())
	if withState {
		require.Equal(t, theirs.TraceState().String(), ours.TraceState)
	}
}

// traceFormat pairs one of our formats with OpenTelemetry's.
type traceFormat struct {
	name      string
	ours      propagation.Propagator
	theirs    otelprop.TextMapPropagator
	state     bool // carries tracestate
	flagsKept bool // carries flags other than sampled
}

func traceFormats() []traceFormat {
	return []traceFormat{
		{"tracecontext", propagation.TraceContext{}, otelprop.TraceContext{}, true, true},
		{"b3 single", propagation.B3{}, b3prop.New(b3prop.WithInjectEncoding(b3prop.B3SingleHeader)), false, false},
		{"b3 multi", propagation.B3Multi{}, b3prop.New(b3prop.WithInjectEncoding(b3prop.B3MultipleHeader)), false, false},
		{"jaeger", propagation.Jaeger{}, jaegerprop.Jaeger{}, false, false},
	}
}

func TestInteropTraceOursToOTel(t *testing.T) {
	t.Parallel()
	for _, f := range traceFormats() {
		for _, flags := range []byte{0, propagation.FlagSampled, propagation.FlagSampled | propagation.FlagRandom} {
			t.Run(f.name, func(t *testing.T) {
				sc := propagation.SpanContext{TraceID: interopTrace, SpanID: interopSpan, Flags: flags, TraceState: "rojo=00f067aa0ba902b7,t61rcwkgmze@congo=lZWRzIHRoNhcm5hbCBwbGVhc3VyZS4"}
				h := http.Header{}
				f.ours.Inject(propagation.State{SpanContext: sc}, propagation.HeaderCarrier(h))
				got := trace.SpanContextFromContext(f.theirs.Extract(context.Background(), otelprop.HeaderCarrier(h)))
				requireSameContext(t, sc, got, f.state)
				if f.flagsKept {
					require.Equal(t, flags, byte(got.TraceFlags()))
				}
			})
		}
	}
}

func TestInteropTraceOTelToOurs(t *testing.T) {
	t.Parallel()
	for _, f := range traceFormats() {
		for _, flags := range []trace.TraceFlags{0, trace.FlagsSampled, trace.FlagsSampled | trace.FlagsRandom} {
			t.Run(f.name, func(t *testing.T) {
				ctx := otelContext(t, flags, "rojo=00f067aa0ba902b7,t61rcwkgmze@congo=x")
				h := http.Header{}
				f.theirs.Inject(ctx, otelprop.HeaderCarrier(h))
				s := f.ours.Extract(propagation.HeaderCarrier(h), propagation.State{})
				requireSameContext(t, s.SpanContext, trace.SpanContextFromContext(ctx), f.state)
				if f.flagsKept {
					require.Equal(t, byte(flags), s.SpanContext.Flags)
				}
			})
		}
	}
}

func TestInteropTraceContextRejectsAlike(t *testing.T) {
	t.Parallel()
	// Headers both implementations must reject.
	for _, tp := range []string{
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
	} {
		h := http.Header{"Traceparent": {tp}}
		theirs := trace.SpanContextFromContext(otelprop.TraceContext{}.Extract(context.Background(), otelprop.HeaderCarrier(h)))
		ours := propagation.TraceContext{}.Extract(propagation.HeaderCarrier(h), propagation.State{})
		require.False(t, theirs.IsValid(), tp)
		require.False(t, ours.SpanContext.IsValid(), tp)
	}
}

func TestInteropTraceContextStricter(t *testing.T) {
	t.Parallel()
	// Version 00 is exactly 55 characters (W3C Level 2, 4.3): OTel Go
	// v1.47 accepts a trailing dash after the flags of version 00; we do not.
	h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"}}
	ours := propagation.TraceContext{}.Extract(propagation.HeaderCarrier(h), propagation.State{})
	require.False(t, ours.SpanContext.IsValid())
}

var interopBaggage = []propagation.Member{
	{Key: "userId", Value: "alice"},
	{Key: "serverNode", Value: "DF 28"},
	{Key: "odd", Value: "a,b;c=d%e\"\\ü✓"},
	{Key: "withProps", Value: "1", Properties: "p1;p2=v2"},
	{Key: "flow_id", Value: "checkout-42"},
}

func TestInteropBaggageOursToOTel(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	propagation.W3CBaggage{}.Inject(propagation.State{Baggage: propagation.NewBaggage(interopBaggage...)}, propagation.HeaderCarrier(h))
	bag := otelbaggage.FromContext(otelprop.Baggage{}.Extract(context.Background(), otelprop.HeaderCarrier(h)))
	require.Equal(t, len(interopBaggage), bag.Len())
	for _, m := range interopBaggage {
		om := bag.Member(m.Key)
		require.Equal(t, m.Value, om.Value(), m.Key)
		if m.Properties != "" {
			require.Len(t, om.Properties(), 2)
		}
	}
}

func TestInteropBaggageOTelToOurs(t *testing.T) {
	t.Parallel()
	var ms []otelbaggage.Member
	for _, m := range interopBaggage {
		var props []otelbaggage.Property
		if m.Properties != "" {
			p1, err := otelbaggage.NewKeyProperty("p1")
			require.NoError(t, err)
			p2, err := otelbaggage.NewKeyValueProperty("p2", "v2")
			require.NoError(t, err)
			props = append(props, p1, p2)
		}
		om, err := otelbaggage.NewMemberRaw(m.Key, m.Value, props...)
		require.NoError(t, err)
		ms = append(ms, om)
	}
	bag, err := otelbaggage.New(ms...)
	require.NoError(t, err)
	h := http.Header{}
	otelprop.Baggage{}.Inject(otelbaggage.ContextWithBaggage(context.Background(), bag), otelprop.HeaderCarrier(h))
	s := propagation.W3CBaggage{}.Extract(propagation.HeaderCarrier(h), propagation.State{})
	require.Equal(t, len(interopBaggage), s.Baggage.Len())
	for _, m := range interopBaggage {
		got, ok := s.Baggage.Member(m.Key)
		require.True(t, ok, m.Key)
		require.Equal(t, m.Value, got.Value)
		require.Equal(t, m.Properties, got.Properties)
	}
}

// TestInteropComposite runs our default composite against OTel's composite
// of TraceContext and Baggage: the flow id travels as baggage too.
func TestInteropComposite(t *testing.T) {
	t.Parallel()
	otelComposite := otelprop.NewCompositeTextMapPropagator(otelprop.TraceContext{}, otelprop.Baggage{})
	in := propagation.State{
		SpanContext: propagation.SpanContext{TraceID: interopTrace, SpanID: interopSpan, Flags: 1},
		Baggage:     propagation.NewBaggage(propagation.Member{Key: "flow_id", Value: "f-1"}),
	}
	h := http.Header{}
	propagation.Default().Inject(in, propagation.HeaderCarrier(h))
	ctx := otelComposite.Extract(context.Background(), otelprop.HeaderCarrier(h))
	require.Equal(t, "f-1", otelbaggage.FromContext(ctx).Member("flow_id").Value())

	// OTel forwards it; we read it back (no X-Flow-ID: baggage only).
	h2 := http.Header{}
	otelComposite.Inject(ctx, otelprop.HeaderCarrier(h2))
	out := propagation.Default().Extract(propagation.HeaderCarrier(h2), propagation.State{})
	require.Equal(t, in, out)
}
