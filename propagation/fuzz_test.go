package propagation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireSafeHeaders checks what Inject wrote: bounded, and nothing that
// net/http or grpc-go would refuse or that could split a header.
func requireSafeHeaders(t *testing.T, c MapCarrier) {
	t.Helper()
	limits := map[string]int{
		traceparentHeader: traceparentLen, tracestateHeader: maxTraceStateLen,
		baggageHeader: MaxBaggageBytes, flowIDHeader: 128,
		b3SingleHeader: 32 + 1 + 16 + 2, jaegerHeader: 32 + 1 + 16 + 4,
	}
	for k, v := range c {
		if max, ok := limits[k]; ok {
			require.LessOrEqual(t, len(v), max, k)
		}
		require.LessOrEqual(t, len(v), MaxBaggageBytes*3, k)
		for i := 0; i < len(v); i++ {
			require.True(t, v[i] >= 0x20 && v[i] < 0x7f || v[i] == '\t', "%s: byte %#x", k, v[i])
		}
	}
}

// roundTrip extracts from c, injects into a fresh carrier, extracts again,
// and returns both states and the injected carrier.
func roundTrip(t *testing.T, p Propagator, c Carrier) (first, second State, out MapCarrier) {
	first = p.Extract(c, State{})
	out = MapCarrier{}
	p.Inject(first, out)
	requireSafeHeaders(t, out)
	second = p.Extract(out, State{})
	return first, second, out
}

// requireSamplingState checks the sampling state an extracted context may
// have: debug implies sampled and excludes deferred; deferred is not
// sampled.
func requireSamplingState(t *testing.T, sc SpanContext) {
	t.Helper()
	if !sc.IsValid() {
		require.False(t, sc.Deferred || sc.Debug)
		return
	}
	if sc.Debug {
		require.True(t, sc.IsSampled())
		require.False(t, sc.Deferred)
	}
	if sc.Deferred {
		require.False(t, sc.IsSampled())
	}
}

func FuzzExtractTraceparent(f *testing.F) {
	for _, tt := range invalidTraceparents[:len(invalidTraceparents)-2] {
		f.Add(tt.in, "")
	}
	f.Add(tpValid, "")
	f.Add(tpValid, tpValid)
	f.Add("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future", "")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := HeaderCarrier{"Traceparent": {a}}
		if b != "" {
			h["Traceparent"] = append(h["Traceparent"], b)
		}
		first, second, _ := roundTrip(t, TraceContext{}, h)
		require.Equal(t, first, second)
		if b != "" {
			require.False(t, first.SpanContext.IsValid(), "two field lines")
		}
		if first.SpanContext.IsValid() {
			require.Equal(t, FormatTraceparent(first.SpanContext), strings.ToLower(FormatTraceparent(first.SpanContext)))
		}
	})
}

func FuzzExtractTraceState(f *testing.F) {
	f.Add("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "")
	f.Add("a=1, ,b=2", "c=3")
	f.Add("t@v=1,t@v=2", "")
	f.Add("foo@=1,foo@@bar=2,foo@bar@baz=3", "foo@=4")
	f.Add(strings.Repeat("t", 242)+"@v=1", "t@"+strings.Repeat("v", 15)+"=1")
	f.Add("@foo=1,bar=2", "")
	f.Add(strings.Repeat("k=v,", 40), "")
	f.Add("a="+strings.Repeat("x", 256)+",b="+strings.Repeat("y", 256), "c=1")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := HeaderCarrier{"Traceparent": {tpValid}, "Tracestate": {a}}
		if b != "" {
			h["Tracestate"] = append(h["Tracestate"], b)
		}
		first, second, _ := roundTrip(t, TraceContext{}, h)
		require.True(t, first.SpanContext.IsValid())
		ts := first.SpanContext.TraceState
		if ts != "" {
			norm, err := ParseTraceState(ts)
			require.NoError(t, err)
			require.Equal(t, ts, norm, "extracted tracestate is normalized")
			seen := map[string]bool{}
			for _, m := range strings.Split(ts, ",") {
				k, v, ok := strings.Cut(m, "=")
				require.True(t, ok)
				require.False(t, seen[k], "key %q repeated in %q", k, ts)
				seen[k] = true
				// The first member with a key is the one kept.
				first, _ := TraceStateGet(a+","+b, k)
				require.Equal(t, strings.TrimRight(first, " \t"), v)
			}
			require.LessOrEqual(t, len(seen), maxTraceStateMembers)
		}
		require.Equal(t, TruncateTraceState(ts), second.SpanContext.TraceState)
		if len(ts) <= maxTraceStateLen {
			require.Equal(t, first, second)
		}
	})
}

func FuzzExtractBaggage(f *testing.F) {
	f.Add("userId=alice,serverNode=DF%2028;p1;p2=v", "")
	f.Add("a=%zz,b=2", "c=%FF")
	f.Add(tinyMembers(70), "")
	f.Add("a="+strings.Repeat("%FF", 2000), "b=1")
	f.Add(" a = 1 ; p = v ,, ", "a=2")
	f.Fuzz(func(t *testing.T, a, b string) {
		h := HeaderCarrier{"Baggage": {a}}
		if b != "" {
			h["Baggage"] = append(h["Baggage"], b)
		}
		first, second, _ := roundTrip(t, W3CBaggage{}, h)
		require.LessOrEqual(t, first.Baggage.Len(), MaxBaggageMembers)
		if second.Baggage.Len() == first.Baggage.Len() {
			require.Equal(t, first, second)
		} else {
			// Re-encoding grew past 8192 bytes (U+FFFD is 9 bytes encoded):
			// members were dropped whole, and the result is stable.
			require.Less(t, second.Baggage.Len(), first.Baggage.Len())
			out := MapCarrier{}
			W3CBaggage{}.Inject(second, out)
			require.Equal(t, second, W3CBaggage{}.Extract(out, State{}))
		}
	})
}

func FuzzExtractB3Single(f *testing.F) {
	f.Add(b3Trace + "-" + b3Span + "-1-05e3ac9a4f6e3b90")
	f.Add("64fe8b2a57d3eff7-" + b3Span + "-d")
	f.Add("0")
	f.Add(b3Trace + "-" + b3Span + "-")
	f.Add(b3Trace + "-" + b3Span)
	f.Fuzz(func(t *testing.T, v string) {
		first, second, _ := roundTrip(t, B3{}, MapCarrier{"b3": v})
		require.Equal(t, first, second, "deferred and debug survive a round trip")
		requireSamplingState(t, first.SpanContext)
	})
}

func FuzzExtractB3Multi(f *testing.F) {
	f.Add(b3Trace, b3Span, "05e3ac9a4f6e3b90", "1", "")
	f.Add("64fe8b2a57d3eff7", b3Span, "", "true", "1")
	f.Add(b3Trace, b3Span, "", "maybe", "0")
	f.Fuzz(func(t *testing.T, trace, span, parent, sampled, flags string) {
		c := MapCarrier{"X-B3-TraceId": trace, "X-B3-SpanId": span, "X-B3-ParentSpanId": parent, "X-B3-Sampled": sampled, "X-B3-Flags": flags}
		first, second, _ := roundTrip(t, B3Multi{}, c)
		require.Equal(t, first, second, "deferred and debug survive a round trip")
		requireSamplingState(t, first.SpanContext)
	})
}

func FuzzExtractJaeger(f *testing.F) {
	f.Add(b3Trace+":"+b3Span+":0:1", "uberctx-user", "alice%20b")
	f.Add("abc%3Ade%3A0%3A3", "uberctx-x", "%zz")
	f.Add("::::", "other", "")
	f.Add(b3Trace+":"+b3Span+":0:2", "", "")
	f.Add(b3Trace+":"+b3Span+":0:ff", "", "")
	f.Fuzz(func(t *testing.T, v, k, bv string) {
		first, second, _ := roundTrip(t, Jaeger{}, MapCarrier{"uber-trace-id": v, k: bv})
		require.Equal(t, first.SpanContext, second.SpanContext)
		requireSamplingState(t, first.SpanContext)
		require.False(t, first.SpanContext.Deferred, "Jaeger has no deferred state")
		require.Equal(t, first.Baggage.Members(), second.Baggage.Members())
	})
}

func FuzzExtractFlowID(f *testing.F) {
	f.Add("checkout-42", "flow_id=other")
	f.Add("a\r\nb", "")
	f.Add("", "flow_id=%0A")
	f.Add(strings.Repeat("x", 200), "")
	f.Fuzz(func(t *testing.T, id, bag string) {
		c := MapCarrier{"X-Flow-ID": id, "baggage": bag}
		first, second, out := roundTrip(t, Default(), c)
		require.Equal(t, first, second)
		if v, ok := first.Baggage.Get("flow_id"); ok {
			require.Equal(t, v, out["X-Flow-ID"])
		}
	})
}

// FuzzSelect: any OTEL_PROPAGATORS value resolves to a working propagator,
// names in effect that are registered (or "none"), and at most one bounded
// warning line that escapes what it quotes.
func FuzzSelect(f *testing.F) {
	f.Add("tracecontext,baggage,flowid")
	f.Add("none")
	f.Add(" TraceContext ,none, b3,xray")
	f.Add("x\n\x1b[31m,\xff,,")
	f.Add(strings.Repeat("n,", 300))
	f.Fuzz(func(t *testing.T, v string) {
		sel := Select(strings.Split(v, ","))
		require.NotNil(t, sel.Propagator)
		require.NotEmpty(t, sel.Names)
		for _, n := range sel.Names {
			_, ok := Lookup(n)
			require.True(t, ok, n)
		}
		if sel.Names[0] == "none" {
			require.Len(t, sel.Names, 1)
			require.Empty(t, sel.Propagator.Fields())
		}
		w := sel.Warning()
		require.LessOrEqual(t, len(w), (len(sel.Unknown)+len(sel.Ignored))*(4*maxWarnedName+8)+512)
		for _, r := range w {
			require.False(t, r < 0x20 || r == 0x7f, "control character in %q", w)
		}
		out := MapCarrier{}
		sel.Propagator.Inject(State{SpanContext: SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Flags: FlagSampled}}, out)
		requireSafeHeaders(t, out)
	})
}
