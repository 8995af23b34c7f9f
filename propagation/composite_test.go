package propagation

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegistry(t *testing.T) {
	// Not parallel: it registers a propagator in the process-wide registry.
	for _, name := range []string{"tracecontext", "baggage", "b3", "b3multi", "jaeger", "flowid", "none", " TraceContext "} {
		_, ok := Lookup(name)
		require.True(t, ok, name)
	}
	_, ok := Lookup("xray")
	require.False(t, ok)

	require.PanicsWithValue(t, `propagation: propagator "b3" registered twice`, func() { Register("B3", B3{}) })
	require.Panics(t, func() { Register("", B3{}) })
	require.Panics(t, func() { Register("x-nil", nil) })
	Register("test-custom", None{})
	t.Cleanup(func() {
		// The registry is process-wide: leave it as found, so that -count
		// runs register the name again.
		registry.Lock()
		delete(registry.m, "test-custom")
		registry.Unlock()
	})
	_, ok = Lookup("test-custom")
	require.True(t, ok)
}

func TestFromNames(t *testing.T) {
	t.Parallel()
	p, unknown := FromNames([]string{"tracecontext", " baggage", "xray", "", "tracecontext", "B3"})
	require.Equal(t, []string{"xray"}, unknown)
	require.Equal(t, []string{"traceparent", "tracestate", "baggage", "b3"}, p.Fields())

	p, unknown = FromNames([]string{"tracecontext", "none", "nope"})
	require.Equal(t, None{}, p)
	require.Equal(t, []string{"nope"}, unknown)

	p, unknown = FromNames(nil)
	require.Equal(t, Default().Fields(), p.Fields())
	require.Empty(t, unknown)

	p, unknown = FromNames([]string{"nope"})
	require.Equal(t, Default().Fields(), p.Fields(), "nothing usable keeps the default")
	require.Equal(t, []string{"nope"}, unknown)
}

// TestSelect is the one name policy (issue 14 item 5), as a table.
func TestSelect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in        []string
		names     []string
		fields    []string
		unknown   []string
		ignored   []string
		defaulted bool
		warning   string
	}{
		{in: nil, names: []string{"tracecontext", "baggage", "flowid"}, fields: Default().Fields(), defaulted: true},
		{in: []string{" ", ""}, names: []string{"tracecontext", "baggage", "flowid"}, fields: Default().Fields(), defaulted: true},
		{in: []string{"none"}, names: []string{"none"}},
		{in: []string{" NONE ", "none"}, names: []string{"none"}},
		{
			in: []string{"tracecontext", "none", "b3", "xray"}, names: []string{"none"},
			unknown: []string{"xray"}, ignored: []string{"tracecontext", "b3"},
			warning: `unknown propagator "xray" left out (registered: `,
		},
		{in: []string{"B3", "jaeger", "b3"}, names: []string{"b3", "jaeger"}, fields: []string{"b3", "uber-trace-id"}},
		{
			in: []string{"xray", "ottrace"}, names: []string{"tracecontext", "baggage", "flowid"}, fields: Default().Fields(),
			unknown: []string{"xray", "ottrace"}, defaulted: true, warning: "using the default tracecontext,baggage,flowid",
		},
		{
			in: []string{"a\nb" + strings.Repeat("x", 100)}, names: []string{"tracecontext", "baggage", "flowid"}, fields: Default().Fields(),
			unknown: []string{"a\nb" + strings.Repeat("x", 100)}, defaulted: true, warning: `"a\nb` + strings.Repeat("x", 61) + `..."`,
		},
	} {
		sel := Select(tc.in)
		require.Equal(t, tc.names, sel.Names, "%q", tc.in)
		require.Equal(t, tc.unknown, sel.Unknown, "%q", tc.in)
		require.Equal(t, tc.ignored, sel.Ignored, "%q", tc.in)
		require.Equal(t, tc.defaulted, sel.Defaulted, "%q", tc.in)
		if tc.fields == nil {
			require.Empty(t, sel.Propagator.Fields(), "%q", tc.in)
		} else {
			require.Equal(t, tc.fields, sel.Propagator.Fields(), "%q", tc.in)
		}
		w := sel.Warning()
		if tc.warning == "" && tc.unknown == nil && tc.ignored == nil {
			require.Empty(t, w, "%q", tc.in)
		} else {
			require.Contains(t, w, tc.warning, "%q", tc.in)
			require.NotContains(t, w, "\n", "one line")
		}
	}
	require.Contains(t, Select([]string{"none", "b3"}).Warning(), `"none" turns propagation off; "b3" ignored`)
	require.Equal(t, []string{"b3", "b3multi", "baggage", "flowid", "jaeger", "none", "tracecontext"}, filterBuiltin(Names()))
}

// filterBuiltin leaves out names other tests registered.
func filterBuiltin(names []string) []string {
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, "test-") {
			out = append(out, n)
		}
	}
	return out
}

func TestDefault(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"traceparent", "tracestate", "baggage", "X-Flow-ID"}, Default().Fields())
	sc := SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Flags: FlagSampled}
	in := State{SpanContext: sc, Baggage: NewBaggage(Member{Key: "flow_id", Value: "f-1"}, Member{Key: "k", Value: "v"})}
	h := HeaderCarrier(http.Header{})
	Default().Inject(in, h)
	require.Equal(t, "f-1", h.Get("X-Flow-ID"))
	require.Equal(t, in, Default().Extract(h, State{}))
}

func TestCompositeFirstTraceFormatWins(t *testing.T) {
	t.Parallel()
	p := Composite(B3{}, TraceContext{})
	c := MapCarrier{"traceparent": tpValid, "b3": b3Trace + "-" + b3Span + "-1"}
	s := p.Extract(c, State{})
	require.Equal(t, b3Trace, s.SpanContext.TraceID.String())
	s = Composite(TraceContext{}, B3{}).Extract(c, State{})
	require.Equal(t, tpTraceID, s.SpanContext.TraceID.String())
	// Invalid first format: the next one is used.
	c["traceparent"] = "garbage"
	s = Composite(TraceContext{}, B3{}).Extract(c, State{})
	require.Equal(t, b3Trace, s.SpanContext.TraceID.String())
}

// TestBaggagePrecedence checks the rule in the package doc in every order.
func TestBaggagePrecedence(t *testing.T) {
	t.Parallel()
	c := HeaderCarrier{}
	c.Set("baggage", "k=w3c,flow_id=from-baggage")
	c.Set("uberctx-k", "jaeger")
	c.Set("uberctx-only", "jaeger")
	c.Set("uberctx-flow_id", "from-jaeger")
	c.Set("X-Flow-ID", "from-header")
	flow := NewFlowID()
	orders := [][]Propagator{
		{W3CBaggage{}, Jaeger{}, flow},
		{flow, Jaeger{}, W3CBaggage{}},
		{Jaeger{}, flow, W3CBaggage{}},
	}
	for i, ps := range orders {
		s := Composite(ps...).Extract(c, State{})
		got := map[string]string{}
		s.Baggage.Each(func(m Member) bool { got[m.Key] = m.Value; return true })
		require.Equal(t, map[string]string{"k": "w3c", "only": "jaeger", "flow_id": "from-header"}, got)
		require.Equal(t, uint64(i+1), flow.Stats().Mismatches, "one mismatch per extract, on the propagator's own counter")
	}
}

func TestCompositeFlatten(t *testing.T) {
	t.Parallel()
	p := Composite(Composite(TraceContext{}, nil), None{}, Composite(W3CBaggage{}, TraceContext{}))
	require.Equal(t, []string{"traceparent", "tracestate", "baggage"}, p.Fields())
}
