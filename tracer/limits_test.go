package tracer

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
)

// TestUnboundedStrings is the field case of a 1 MB tag key and a 3 MB span
// name exported whole: every string a span stores is bounded by Limits.
func TestUnboundedStrings(t *testing.T) {
	huge := strings.Repeat("n", 3<<20)
	key := strings.Repeat("k", 1<<20)
	lim := DefaultLimits()
	tr, rec := newRecorded(WithLimits(lim))

	s := tr.StartSpan(huge, opentracing.Tags{key: "v"})
	s.SetTag(key+"2", "v")
	s.SetTag("ok", strings.Repeat("v", 1<<20))
	s.LogFields(log.String("event", huge), log.String(key, "x"), log.String("message", huge))
	s.LogFields(log.Error(errors.New(huge)))
	s.Finish()
	renamed := tr.StartSpan("short")
	renamed.SetOperationName(huge)
	renamed.Finish()

	d := rec.all()[0]
	require.Len(t, d.Name, lim.NameLength)
	require.Equal(t, lim.NameLength, len(rec.all()[1].Name))
	for _, a := range d.Attributes {
		require.LessOrEqual(t, len(a.Key), lim.NameLength)
		if v, ok := a.Value.(string); ok {
			require.LessOrEqual(t, len(v), lim.AttributeValueLength)
		}
	}
	v, ok := attr(d, "ok")
	require.True(t, ok)
	require.Len(t, v, lim.AttributeValueLength)
	require.Equal(t, 2, d.DroppedAttributes, "the two tags with 1 MB keys")
	require.Len(t, d.Events, 2)
	require.Len(t, d.Events[0].Name, lim.NameLength)
	for _, e := range d.Events {
		for _, a := range e.Attributes {
			require.LessOrEqual(t, len(a.Key), lim.NameLength)
			require.LessOrEqual(t, len(a.Value.(string)), lim.AttributeValueLength)
		}
	}
	require.Equal(t, StatusError, d.Status)
	require.Len(t, d.StatusMessage, lim.AttributeValueLength)
}

// TestTruncationKeepsUTF8 cuts strings at a rune boundary and does not keep
// the caller's huge string alive through a slice of it.
func TestTruncationKeepsUTF8(t *testing.T) {
	tr, rec := newRecorded(WithLimits(Limits{AttributeCount: 8, AttributeValueLength: 5, NameLength: 4}))
	s := tr.StartSpan("ééé")
	s.SetTag("k", "aaaaé")
	s.Finish()
	d := rec.all()[0]
	require.Equal(t, "éé", d.Name)
	v, _ := attr(d, "k")
	require.Equal(t, "aaaa", v)
	require.True(t, utf8.ValidString(d.Name))
}

// TestStoredTraceStateIsWhatPropagates: a caller's valid 32-member
// tracestate (about 8 KiB here, up to 32 KiB possible) is stored on spans
// only as far as it would be propagated, 512 bytes.
func TestStoredTraceStateIsWhatPropagates(t *testing.T) {
	var members []string
	for i := 0; i < 32; i++ {
		members = append(members, "k"+strconv.Itoa(i)+"="+strings.Repeat("v", 250))
	}
	ts := strings.Join(members, ",")
	carrier := opentracing.TextMapCarrier{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tracestate":  ts,
	}
	for _, sampler := range []Sampler{ParentBased(AlwaysOn()), AlwaysOn(), AlwaysOff()} {
		tr, rec := newRecorded(WithSampler(sampler))
		parent, err := tr.Extract(opentracing.TextMap, carrier)
		require.NoError(t, err)
		child := tr.StartSpan("child", opentracing.ChildOf(parent))
		out := opentracing.TextMapCarrier{}
		require.NoError(t, tr.Inject(child.Context(), opentracing.TextMap, out))
		stored := ctxOf(child).PropagationContext().TraceState
		require.LessOrEqual(t, len(stored), 512)
		require.Equal(t, out["tracestate"], stored)
		child.Finish()
		// A public edge links to the caller instead of adopting it.
		linked := tr.StartSpan("linked", LinkTo(parent))
		linked.Finish()
		for _, d := range rec.all() {
			require.LessOrEqual(t, len(d.SpanContext.TraceState), 512, d.Name)
			for _, l := range d.Links {
				require.LessOrEqual(t, len(l.SpanContext.TraceState), 512, d.Name)
			}
		}
	}
}

// TestAttributeCountZeroMeansNone: as in the OpenTelemetry specification,
// a count limit of 0 keeps none; negative is unlimited; and the tracer's
// own sampling.probability never takes the caller's slot.
func TestAttributeCountZeroMeansNone(t *testing.T) {
	for _, tc := range []struct {
		limit, wantUser, wantDropped int
	}{
		{0, 0, 3},
		{1, 1, 2},
		{2, 2, 1},
		{-1, 3, 0},
	} {
		t.Run(strconv.Itoa(tc.limit), func(t *testing.T) {
			lim := DefaultLimits()
			lim.AttributeCount, lim.EventCount, lim.LinkCount = tc.limit, tc.limit, tc.limit
			tr, rec := newRecorded(WithLimits(lim), WithSampler(TraceIDRatio(1)))
			other := tr.StartSpan("other")
			s := tr.StartSpan("op", LinkTo(other.Context()), LinkTo(other.Context()), LinkTo(other.Context()))
			s.SetBaggageItem(FlowIDKey, "flow-1")
			for i := 0; i < 3; i++ {
				s.SetTag("user"+strconv.Itoa(i), i)
				s.LogKV("i", i)
			}
			s.Finish()
			d := rec.all()[0]
			user := 0
			for _, a := range d.Attributes {
				if strings.HasPrefix(a.Key, "user") {
					user++
				}
			}
			require.Equal(t, tc.wantUser, user)
			require.Equal(t, tc.wantDropped, d.DroppedAttributes)
			_, ok := attr(d, SamplingProbabilityKey)
			require.True(t, ok, "the tracer's own tag is kept on top of the limit")
			_, ok = attr(d, FlowIDKey)
			require.True(t, ok)
			require.Len(t, d.Events, tc.wantUser)
			require.Equal(t, tc.wantDropped, d.DroppedEvents)
			require.Len(t, d.Links, tc.wantUser)
			require.Equal(t, tc.wantDropped, d.DroppedLinks)
		})
	}
}

// TestSetBaggageItemLinear: 10,000 items on one span took 2.4 s, each call
// copying all the items before it. Baggage is bounded by the W3C limits
// (64 members, 8192 bytes): what does not fit is dropped and counted, and
// the bytes allocated per call stay bounded (quadratic copying allocated
// about 240 KB per call at this size).
func TestSetBaggageItemLinear(t *testing.T) {
	for _, sampler := range []Sampler{AlwaysOn(), AlwaysOff()} {
		tr := New(WithSampler(sampler))
		s := tr.StartSpan("op")
		const n = 10000
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < n; i++ {
			s.SetBaggageItem("k"+strconv.Itoa(i), "value")
		}
		runtime.ReadMemStats(&after)
		perCall := (after.TotalAlloc - before.TotalAlloc) / n
		t.Logf("%s: %d B allocated per SetBaggageItem", sampler.Description(), perCall)
		require.Less(t, perCall, uint64(8<<10))
		b := ctxOf(s).Baggage()
		require.Equal(t, propagation.MaxBaggageMembers, b.Len())
		require.Equal(t, uint64(n-propagation.MaxBaggageMembers), tr.Stats().BaggageDropped)

		// Replacing items that are there still works at the limit, at a
		// bounded cost per call (one copy of at most 64 members).
		runtime.ReadMemStats(&before)
		for i := 0; i < n; i++ {
			s.SetBaggageItem("k"+strconv.Itoa(i%propagation.MaxBaggageMembers), "new")
		}
		runtime.ReadMemStats(&after)
		perCall = (after.TotalAlloc - before.TotalAlloc) / n
		t.Logf("%s: %d B allocated per replacing SetBaggageItem", sampler.Description(), perCall)
		require.Less(t, perCall, uint64(8<<10))
		require.Equal(t, "new", s.BaggageItem("k0"))
		require.Equal(t, propagation.MaxBaggageMembers, ctxOf(s).Baggage().Len())

		// Bytes: one huge value does not fit.
		s2 := tr.StartSpan("op2")
		s2.SetBaggageItem("big", strings.Repeat("x", propagation.MaxBaggageBytes))
		require.Equal(t, "", s2.BaggageItem("big"))
		s2.SetBaggageItem("a", strings.Repeat("x", 5000))
		s2.SetBaggageItem("b", strings.Repeat("x", 5000))
		require.Equal(t, "", s2.BaggageItem("b"))
		require.Equal(t, uint64(n-propagation.MaxBaggageMembers+2), tr.Stats().BaggageDropped)
	}
}

func BenchmarkSetBaggageItem(b *testing.B) {
	tr := New(WithProcessor(discard{}))
	b.ReportAllocs()
	for b.Loop() {
		s := tr.StartSpan("op")
		for i := 0; i < 100; i++ {
			s.SetBaggageItem("k"+strconv.Itoa(i%70), "v")
		}
		s.Finish()
	}
}

// TestRoutedBaggageValidated is the field case of critical_operation and
// traffic_source arriving in baggage with escape sequences, CR/LF and NUL:
// they were tagged on every span and propagated on. Invalid values of the
// WithBaggageTags keys are dropped from the extracted context (so neither
// tagged nor propagated), from SetBaggageItem, and counted.
func TestRoutedBaggageValidated(t *testing.T) {
	hostile := []string{
		"%1B%5B31mcheckout",        // ANSI escape
		"check%0D%0Aout",           // CR LF
		"check%00out",              // NUL
		strings.Repeat("a", 300),   // too long
		"%E2%80%AEtuokcehc",        // bidi override
		"checkout%5Cx1b%5B2J",      // literal escape sequence text
		"check%20out",              // space
		"%22checkout%22%2C%3Dmore", // quotes and delimiters
	}
	for _, bad := range hostile {
		t.Run(bad[:min(len(bad), 20)], func(t *testing.T) {
			tr, rec := newRecorded()
			carrier := opentracing.HTTPHeadersCarrier{
				"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
				"Baggage":     {"critical_operation=" + bad + ",traffic_source=" + bad + ",other=kept"},
			}
			parent, err := tr.Extract(opentracing.HTTPHeaders, carrier)
			require.NoError(t, err)
			s := tr.StartSpan("server", opentracing.ChildOf(parent))
			s.Finish()
			d := rec.all()[0]
			for _, k := range []string{"critical_operation", "traffic_source"} {
				_, ok := attr(d, k)
				require.False(t, ok, k)
				require.Equal(t, "", s.BaggageItem(k), k)
			}
			require.Equal(t, "kept", s.BaggageItem("other"))
			out := opentracing.TextMapCarrier{}
			require.NoError(t, tr.Inject(s.Context(), opentracing.TextMap, out))
			require.NotContains(t, out["baggage"], "critical_operation")
			require.NotContains(t, out["baggage"], "traffic_source")
			require.Equal(t, uint64(2), tr.Stats().BaggageDropped)
		})
	}

	t.Run("set locally", func(t *testing.T) {
		tr, rec := newRecorded()
		s := tr.StartSpan("edge")
		s.SetBaggageItem("critical_operation", "check\r\nout")
		s.SetBaggageItem("traffic_source", "web")
		s.Finish()
		d := rec.all()[0]
		_, ok := attr(d, "critical_operation")
		require.False(t, ok)
		require.Equal(t, "", s.BaggageItem("critical_operation"))
		v, _ := attr(d, "traffic_source")
		require.Equal(t, "web", v)
		require.Equal(t, uint64(1), tr.Stats().BaggageDropped)
	})

	t.Run("validator option", func(t *testing.T) {
		onlyCheckout := func(key, value string) bool { return key != "critical_operation" || value == "checkout" }
		tr, rec := newRecorded(WithBaggageValidator(onlyCheckout))
		for _, v := range []string{"checkout", "refund"} {
			parent, err := tr.Extract(opentracing.TextMap, opentracing.TextMapCarrier{
				"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
				"baggage":     "critical_operation=" + v,
			})
			require.NoError(t, err)
			tr.StartSpan(v, opentracing.ChildOf(parent)).Finish()
		}
		spans := rec.all()
		got, _ := attr(spans[0], "critical_operation")
		require.Equal(t, "checkout", got)
		_, ok := attr(spans[1], "critical_operation")
		require.False(t, ok)
		require.Equal(t, uint64(1), tr.Stats().BaggageDropped)
	})
}

type panicStringer struct{}

func (panicStringer) String() string { panic("String boom") }

type panicError struct{}

func (*panicError) Error() string { panic("Error boom") }

// TestPanickingUserCodeRecovered: a tag value whose String() or an error
// whose Error() panics made SetTag, LogFields(Object/Error) and
// StartSpan(Tags) panic. The panic is recovered, a placeholder recorded in
// place of the value, and counted.
func TestPanickingUserCodeRecovered(t *testing.T) {
	var nilErr *panicError // a typed nil error: its Error() panics
	tr, rec := newRecorded()
	require.NotPanics(t, func() {
		s := tr.StartSpan("op",
			opentracing.Tags{"tags.stringer": panicStringer{}, "tags.error": nilErr},
			opentracing.Tag{Key: "tag.stringer", Value: panicStringer{}})
		s.SetTag("set.stringer", panicStringer{})
		s.SetTag("set.error", &panicError{})
		s.LogFields(log.Object("obj", panicStringer{}))
		s.LogFields(log.Error(&panicError{}))
		s.LogFields(log.Object("error.object", nilErr))
		s.LogFields(log.Lazy(func(log.Encoder) { panic("lazy boom") }))
		s.LogKV("kv", panicStringer{}) // LogKV's fmt.Sprint recovers on its own
		s.FinishWithOptions(opentracing.FinishOptions{LogRecords: []opentracing.LogRecord{{Fields: []log.Field{log.Error(&panicError{})}}}})
	})
	d := rec.all()[0]
	for _, k := range []string{"tags.stringer", "tags.error", "tag.stringer", "set.stringer", "set.error"} {
		v, ok := attr(d, k)
		require.True(t, ok, k)
		require.Equal(t, PanicPlaceholder, v, k)
	}
	require.Len(t, d.Events, 6)
	for _, e := range d.Events[:3] {
		require.NotEmpty(t, e.Attributes)
		require.Equal(t, PanicPlaceholder, e.Attributes[0].Value)
	}
	require.Equal(t, StatusError, d.Status)
	require.Equal(t, PanicPlaceholder, d.StatusMessage)
	require.Equal(t, uint64(10), tr.Stats().UserPanics)

	// Unsampled spans call no user code at all.
	off := New(WithSampler(AlwaysOff()))
	require.NotPanics(t, func() {
		s := off.StartSpan("op", opentracing.Tags{"k": panicStringer{}})
		s.SetTag("k", panicStringer{})
		s.LogFields(log.Error(&panicError{}))
		s.Finish()
	})
}

// TestPanickingFieldThenMore: the fields after one whose Error panics are
// recorded still (one recover covers a run of fields), and a pooled
// encoder reused for the next event, on another span, carries nothing of
// the last one over.
func TestPanickingFieldThenMore(t *testing.T) {
	tr, rec := newRecorded()
	s := tr.StartSpan("first")
	s.LogFields(log.String("a", "1"), log.Error(&panicError{}), log.String("b", "2"), log.Error(&panicError{}))
	s.LogFields(log.String("message", "m"), log.String("error", "boom"))
	s.Finish()
	s2 := tr.StartSpan("second")
	s2.LogFields(log.String("k", "v"))
	s2.Finish()
	spans := rec.all()
	require.Len(t, spans, 2)
	d := spans[0]
	require.Len(t, d.Events, 2)
	require.Equal(t, []Attribute{{"a", "1"}, {"error.object", PanicPlaceholder}, {"b", "2"}, {"error.object", PanicPlaceholder}}, d.Events[0].Attributes)
	require.Equal(t, StatusError, d.Status)
	require.Equal(t, "boom", d.StatusMessage)
	d2 := spans[1]
	require.Len(t, d2.Events, 1)
	require.Equal(t, "log", d2.Events[0].Name)
	require.Equal(t, []Attribute{{"k", "v"}}, d2.Events[0].Attributes)
	require.Equal(t, StatusUnset, d2.Status)
	require.Empty(t, d2.StatusMessage)
}
