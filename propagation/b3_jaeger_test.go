package propagation

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	b3Trace = "80f198ee56343ba864fe8b2a57d3eff7"
	b3Span  = "e457b5a2e4d86bd1"
)

func TestB3SingleExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		valid  bool
		trace  string
		sample bool
	}{
		{"full", b3Trace + "-" + b3Span + "-1-05e3ac9a4f6e3b90", true, b3Trace, true},
		{"no parent", b3Trace + "-" + b3Span + "-1", true, b3Trace, true},
		{"not sampled", b3Trace + "-" + b3Span + "-0", true, b3Trace, false},
		{"debug", b3Trace + "-" + b3Span + "-d", true, b3Trace, true},
		{"deferred", b3Trace + "-" + b3Span, true, b3Trace, false},
		{"64-bit trace id padded", "64fe8b2a57d3eff7-" + b3Span + "-1", true, "000000000000000064fe8b2a57d3eff7", true},
		{"OWS", " " + b3Trace + "-" + b3Span + "-1 ", true, b3Trace, true},
		{"sampling only 0", "0", false, "", false},
		{"sampling only d", "d", false, "", false},
		{"sampling only 1", "1", false, "", false},
		{"upper-case", strings.ToUpper(b3Trace) + "-" + b3Span + "-1", false, "", false},
		{"zero trace", strings.Repeat("0", 32) + "-" + b3Span + "-1", false, "", false},
		{"zero span", b3Trace + "-" + strings.Repeat("0", 16) + "-1", false, "", false},
		{"bad sampling", b3Trace + "-" + b3Span + "-x", false, "", false},
		{"trailing dash", b3Trace + "-" + b3Span + "-", false, "", false},
		{"trailing dash after sampling", b3Trace + "-" + b3Span + "-1-", false, "", false},
		{"short parent", b3Trace + "-" + b3Span + "-1-05e3", false, "", false},
		{"bad parent", b3Trace + "-" + b3Span + "-1-05e3ac9a4f6e3bzz", false, "", false},
		{"48-bit trace", "8a57d3eff764fe8b2a57-" + b3Span + "-1", false, "", false},
		{"non-hex", "80f198ee56343ba864fe8b2a57d3effg-" + b3Span + "-1", false, "", false},
		{"NUL", b3Trace + "-" + b3Span + "-\x00", false, "", false},
		{"CR LF", b3Trace + "-" + b3Span + "-1\r\n", false, "", false},
		{"1 MiB", strings.Repeat("a", 1<<20), false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range []Propagator{B3{}, B3Multi{}} {
				s := p.Extract(MapCarrier{"b3": tt.in}, State{})
				require.Equal(t, tt.valid, s.SpanContext.IsValid())
				if tt.valid {
					require.Equal(t, tt.trace, s.SpanContext.TraceID.String())
					require.Equal(t, b3Span, s.SpanContext.SpanID.String())
					require.Equal(t, tt.sample, s.SpanContext.IsSampled())
				}
			}
		})
	}
}

func TestB3MultiExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		h      map[string]string
		valid  bool
		sample bool
	}{
		{"full", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-ParentSpanId": "05e3ac9a4f6e3b90", "X-B3-Sampled": "1"}, true, true},
		{"64-bit", map[string]string{"X-B3-TraceId": "64fe8b2a57d3eff7", "X-B3-SpanId": b3Span, "X-B3-Sampled": "1"}, true, true},
		{"sampled true", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "true"}, true, true},
		{"sampled false", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "false"}, true, false},
		{"sampled 0", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "0"}, true, false},
		{"deferred", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span}, true, false},
		{"debug", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Flags": "1"}, true, true},
		{"debug overrides 0", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "0", "X-B3-Flags": "1"}, true, true},
		{"bad sampled", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-Sampled": "yes"}, false, false},
		{"no span", map[string]string{"X-B3-TraceId": b3Trace}, false, false},
		{"bad parent", map[string]string{"X-B3-TraceId": b3Trace, "X-B3-SpanId": b3Span, "X-B3-ParentSpanId": "x"}, false, false},
		{"upper-case", map[string]string{"X-B3-TraceId": strings.ToUpper(b3Trace), "X-B3-SpanId": b3Span}, false, false},
		{"zero", map[string]string{"X-B3-TraceId": strings.Repeat("0", 32), "X-B3-SpanId": b3Span}, false, false},
		{"wrong length", map[string]string{"X-B3-TraceId": b3Trace[:20], "X-B3-SpanId": b3Span}, false, false},
		{"1 MiB", map[string]string{"X-B3-TraceId": strings.Repeat("a", 1<<20), "X-B3-SpanId": b3Span}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := HeaderCarrier{}
			for k, v := range tt.h {
				h.Set(k, v)
			}
			for _, p := range []Propagator{B3Multi{}, B3{}} {
				s := p.Extract(h, State{})
				require.Equal(t, tt.valid, s.SpanContext.IsValid())
				if tt.valid {
					require.Equal(t, b3Span, s.SpanContext.SpanID.String())
					require.Equal(t, tt.sample, s.SpanContext.IsSampled())
				}
			}
		})
	}
}

func TestB3RoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []Propagator{B3{}, B3Multi{}} {
		for _, flags := range []byte{0, FlagSampled} {
			sc := SpanContext{TraceID: mustTraceID(t, b3Trace), SpanID: mustSpanID(t, b3Span), Flags: flags}
			c := HeaderCarrier{}
			p.Inject(State{SpanContext: sc}, c)
			require.Equal(t, sc, p.Extract(c, State{}).SpanContext)
		}
	}
	c := MapCarrier{}
	B3{}.Inject(State{SpanContext: SpanContext{TraceID: mustTraceID(t, b3Trace), SpanID: mustSpanID(t, b3Span), Flags: 1}}, c)
	require.Equal(t, MapCarrier{"b3": b3Trace + "-" + b3Span + "-1"}, c)
}

func TestJaegerExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		valid  bool
		trace  string
		span   string
		sample bool
	}{
		{"128-bit", b3Trace + ":" + b3Span + ":0:1", true, b3Trace, b3Span, true},
		{"64-bit", "64fe8b2a57d3eff7:" + b3Span + ":0:1", true, "000000000000000064fe8b2a57d3eff7", b3Span, true},
		{"short ids padded", "abc:de:0:0", true, "00000000000000000000000000000abc", "00000000000000de", false},
		{"debug implies sampled", b3Trace + ":" + b3Span + ":0:2", true, b3Trace, b3Span, true},
		{"flags 3", b3Trace + ":" + b3Span + ":0:3", true, b3Trace, b3Span, true},
		{"upper-case accepted", strings.ToUpper(b3Trace) + ":" + b3Span + ":0:1", true, b3Trace, b3Span, true},
		{"url-encoded", b3Trace + "%3A" + b3Span + "%3A0%3a1", true, b3Trace, b3Span, true},
		{"parent", b3Trace + ":" + b3Span + ":05e3ac9a4f6e3b90:1", true, b3Trace, b3Span, true},
		{"zero trace", "0:" + b3Span + ":0:1", false, "", "", false},
		{"zero span", b3Trace + ":0:0:1", false, "", "", false},
		{"too few parts", b3Trace + ":" + b3Span + ":0", false, "", "", false},
		{"too many parts", b3Trace + ":" + b3Span + ":0:1:2", false, "", "", false},
		{"trace id too long", "1" + b3Trace + ":" + b3Span + ":0:1", false, "", "", false},
		{"empty part", b3Trace + "::0:1", false, "", "", false},
		{"non-hex", "xyz:" + b3Span + ":0:1", false, "", "", false},
		{"other escape", b3Trace + "%3A" + b3Span + "%3A0%2F1", false, "", "", false},
		{"NUL", b3Trace + ":" + b3Span + ":0:\x00", false, "", "", false},
		{"1 MiB", strings.Repeat("a", 1<<20), false, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Jaeger{}.Extract(MapCarrier{"uber-trace-id": tt.in}, State{})
			require.Equal(t, tt.valid, s.SpanContext.IsValid())
			if tt.valid {
				require.Equal(t, tt.trace, s.SpanContext.TraceID.String())
				require.Equal(t, tt.span, s.SpanContext.SpanID.String())
				require.Equal(t, tt.sample, s.SpanContext.IsSampled())
			}
		})
	}
}

func TestJaegerBaggage(t *testing.T) {
	t.Parallel()
	h := HeaderCarrier{}
	h.Set("uberctx-user", "alice%20b")
	h.Set("Uberctx-Plus", "a+b")
	h.Set("uberctx-bad", "%zz")
	h.Set("uberctx-shared", "from-jaeger")
	h.Set("uberctx-", "empty key")
	s := Jaeger{}.Extract(h, State{Baggage: NewBaggage(Member{Key: "shared", Value: "from-w3c"})})
	got := map[string]string{}
	s.Baggage.Each(func(m Member) bool { got[m.Key] = m.Value; return true })
	require.Equal(t, map[string]string{"user": "alice b", "plus": "a b", "shared": "from-w3c"}, got)

	// Round trip.
	in := NewBaggage(Member{Key: "user", Value: "a b/c:d"}, Member{Key: "bad key", Value: "x"})
	c := HeaderCarrier{}
	Jaeger{}.Inject(State{SpanContext: SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Flags: 1}, Baggage: in}, c)
	require.Equal(t, "01000000000000000000000000000000:0200000000000000:0:1", c.Get("uber-trace-id"))
	out := Jaeger{}.Extract(c, State{})
	require.Equal(t, []Member{{Key: "user", Value: "a b/c:d"}}, out.Baggage.Members())
	require.Equal(t, SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Flags: 1}, out.SpanContext)

	// Limits: 1000 uberctx headers keep 64.
	h = HeaderCarrier{}
	for i := range 1000 {
		h.Set("uberctx-k"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+string(rune('a'+i/26%26)), "v")
	}
	require.LessOrEqual(t, Jaeger{}.Extract(h, State{}).Baggage.Len(), MaxBaggageMembers)
}
