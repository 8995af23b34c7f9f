package tracer

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/log"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
)

func newRecorded(opts ...Option) (*Tracer, *recorder) {
	r := &recorder{}
	return New(append([]Option{WithProcessor(r)}, opts...)...), r
}

func ctxOf(s opentracing.Span) *SpanContext { return s.Context().(*SpanContext) }

func TestParentAndLinks(t *testing.T) {
	tr, rec := newRecorded()
	a := tr.StartSpan("a")
	b := tr.StartSpan("b")
	c := tr.StartSpan("c")
	ac, bc, cc := ctxOf(a), ctxOf(b), ctxOf(c)

	tests := []struct {
		name      string
		opts      []opentracing.StartSpanOption
		parent    *SpanContext
		linkTypes []string
	}{
		{"root", nil, nil, nil},
		{"child of", []opentracing.StartSpanOption{opentracing.ChildOf(ac)}, ac, nil},
		{"follows from", []opentracing.StartSpanOption{opentracing.FollowsFrom(ac)}, ac, nil},
		{"child of wins over earlier follows from",
			[]opentracing.StartSpanOption{opentracing.FollowsFrom(ac), opentracing.ChildOf(bc)}, bc, []string{"follows_from"}},
		{"first child of wins",
			[]opentracing.StartSpanOption{opentracing.ChildOf(ac), opentracing.ChildOf(bc), opentracing.FollowsFrom(cc)}, ac,
			[]string{"child_of", "follows_from"}},
		{"link only", []opentracing.StartSpanOption{LinkTo(ac), LinkTo(bc)}, nil, []string{"link", "link"}},
		{"nil and foreign references are ignored",
			[]opentracing.StartSpanOption{opentracing.ChildOf(nil), opentracing.ChildOf(opentracing.NoopTracer{}.StartSpan("x").Context())}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tr.StartSpan(tc.name, tc.opts...)
			s.Finish()
			spans := rec.all()
			d := spans[len(spans)-1]
			require.Equal(t, tc.name, d.Name)
			if tc.parent == nil {
				require.False(t, d.ParentSpanID.IsValid())
				for _, p := range []*SpanContext{ac, bc, cc} {
					require.NotEqual(t, p.TraceID(), d.SpanContext.TraceID, "a root starts a new trace")
				}
			} else {
				require.Equal(t, tc.parent.SpanID(), d.ParentSpanID)
				require.Equal(t, tc.parent.TraceID(), d.SpanContext.TraceID)
			}
			var types []string
			for _, l := range d.Links {
				require.True(t, l.SpanContext.IsValid())
				types = append(types, l.Type)
			}
			require.Equal(t, tc.linkTypes, types)
		})
	}
}

func TestIDs(t *testing.T) {
	tr := New()
	seen := map[propagation.SpanID]bool{}
	for i := 0; i < 1000; i++ {
		sc := ctxOf(tr.StartSpan("x"))
		require.True(t, sc.IsValid())
		require.NotZero(t, sc.PropagationContext().Flags&propagation.FlagRandom, "generated trace ids carry the random flag")
		require.False(t, seen[sc.SpanID()])
		seen[sc.SpanID()] = true
	}
}

func TestTagsKindAndStatus(t *testing.T) {
	tr, rec := newRecorded()
	s := tr.StartSpan("op", ext.SpanKindRPCServer, opentracing.Tag{Key: "k0", Value: "v0"})
	s.SetTag("str", "v").SetTag("int", 7).SetTag("bool", true).SetTag("float", 1.5)
	s.SetTag("str", "replaced")
	s.SetTag("err", errors.New("boom"))
	s.SetTag("bytes", []byte("raw"))
	s.SetTag("struct", struct{ A int }{3})
	ext.Error.Set(s, true)
	s.Finish()
	d := rec.all()[0]
	require.Equal(t, KindServer, d.Kind)
	require.Equal(t, StatusError, d.Status)
	want := map[string]any{"k0": "v0", "str": "replaced", "int": 7, "bool": true, "float": 1.5,
		"err": "boom", "bytes": "raw", "struct": "{3}"}
	for k, v := range want {
		got, ok := attr(d, k)
		require.True(t, ok, k)
		require.Equal(t, v, got, k)
	}
	_, ok := attr(d, "span.kind")
	require.False(t, ok, "span.kind becomes the OTLP kind, not an attribute")
}

func TestErrorLogMarksSpan(t *testing.T) {
	tr, rec := newRecorded()
	s := tr.StartSpan("op")
	s.LogFields(log.String("event", "error"), log.Error(errors.New("db down")), log.Int("attempt", 2))
	s.LogKV("event", "retry", "n", 1)
	s.Finish()
	d := rec.all()[0]
	require.Equal(t, StatusError, d.Status)
	require.Equal(t, "db down", d.StatusMessage)
	require.Len(t, d.Events, 2)
	require.Equal(t, "error", d.Events[0].Name)
	require.Equal(t, "retry", d.Events[1].Name)
	require.Equal(t, []Attribute{{Key: "error.object", Value: "db down"}, {Key: "attempt", Value: 2}}, d.Events[0].Attributes)
}

func TestLimits(t *testing.T) {
	tr, rec := newRecorded(WithLimits(Limits{AttributeCount: 3, AttributeValueLength: 5, EventCount: 2, LinkCount: 1}))
	other := tr.StartSpan("other")
	s := tr.StartSpan("op", LinkTo(other.Context()), LinkTo(other.Context()))
	for i := 0; i < 10; i++ {
		s.SetTag(string(rune('a'+i)), "0123456789")
		s.LogKV("i", i)
	}
	s.Finish()
	d := rec.all()[0]
	// The tracer's own sampling.probability comes on top of the three.
	require.Len(t, d.Attributes, 4)
	require.Equal(t, SamplingProbabilityKey, d.Attributes[0].Key)
	require.Equal(t, 7, d.DroppedAttributes)
	require.Equal(t, "01234", d.Attributes[1].Value)
	require.Len(t, d.Events, 2)
	require.Equal(t, 8, d.DroppedEvents)
	require.Len(t, d.Links, 1)
	require.Equal(t, 1, d.DroppedLinks)
}

func TestFinishTwiceAndUseAfterFinish(t *testing.T) {
	tr, rec := newRecorded()
	s := tr.StartSpan("op")
	s.SetTag("k", "v")
	s.Finish()
	d := rec.all()[0]
	end := d.End
	s.Finish()
	s.FinishWithOptions(opentracing.FinishOptions{FinishTime: time.Now().Add(time.Hour)})
	s.SetTag("k", "changed").SetTag("new", 1).SetOperationName("renamed")
	s.LogKV("late", true)
	require.Len(t, rec.all(), 1, "finish twice exports once")
	require.Equal(t, end, d.End)
	require.Equal(t, "op", d.Name)
	v, _ := attr(d, "k")
	require.Equal(t, "v", v)
	_, added := attr(d, "new")
	require.False(t, added)
	require.Empty(t, d.Events)
	// Baggage still works after finish: it only affects the span's context.
	s.SetBaggageItem("b", "1")
	require.Equal(t, "1", s.BaggageItem("b"))
}

func TestBaggageContextsAreImmutable(t *testing.T) {
	for _, sampler := range []Sampler{AlwaysOn(), AlwaysOff()} {
		tr := New(WithSampler(sampler))
		s := tr.StartSpan("op")
		before := s.Context()
		s.SetBaggageItem("k", "v1")
		mid := s.Context()
		s.SetBaggageItem("k", "v2")
		require.Equal(t, 0, before.(*SpanContext).Baggage().Len())
		v, _ := mid.(*SpanContext).Baggage().Get("k")
		require.Equal(t, "v1", v)
		require.Equal(t, "v2", s.BaggageItem("k"))
		child := tr.StartSpan("child", opentracing.ChildOf(s.Context()))
		require.Equal(t, "v2", child.BaggageItem("k"))
	}
}

func TestFlowIDTagFromBaggage(t *testing.T) {
	tr, rec := newRecorded()
	root := tr.StartSpan("root")
	root.SetBaggageItem(FlowIDKey, "flow-1")
	child := tr.StartSpan("child", opentracing.ChildOf(root.Context()))
	child.Finish()
	root.Finish()
	for _, d := range rec.all() {
		v, ok := attr(d, FlowIDKey)
		require.True(t, ok, d.Name)
		require.Equal(t, "flow-1", v)
	}
}

func TestSamplingProbabilityRecorded(t *testing.T) {
	tr, rec := newRecorded(WithSampler(ParentBased(TraceIDRatio(1))))
	root := tr.StartSpan("root")
	tr.StartSpan("child", opentracing.ChildOf(root.Context())).Finish()
	root.Finish()
	for _, d := range rec.all() {
		v, ok := attr(d, SamplingProbabilityKey)
		require.True(t, ok)
		require.Equal(t, 1.0, v)
	}
}

func TestUnsampledPropagates(t *testing.T) {
	// NonRecording keeps the sampler: it is unsampled here by always_off.
	for _, opts := range [][]Option{{WithSampler(AlwaysOff())}, {NonRecording(), WithSampler(AlwaysOff())}} {
		tr, rec := newRecorded(opts...)
		s := tr.StartSpan("op")
		s.SetTag("k", "v").SetBaggageItem(FlowIDKey, "f1")
		s.LogKV("a", 1)
		s.Finish()
		require.Empty(t, rec.all())
		h := opentracing.HTTPHeadersCarrier{}
		require.NoError(t, tr.Inject(s.Context(), opentracing.HTTPHeaders, h))
		got, err := tr.Extract(opentracing.HTTPHeaders, h)
		require.NoError(t, err)
		require.Equal(t, ctxOf(s).TraceID(), got.(*SpanContext).TraceID())
		require.False(t, got.(*SpanContext).IsSampled())
	}
}

func TestNonRecordingFollowsCallerDecision(t *testing.T) {
	upstream := New()
	parent := upstream.StartSpan("up")
	tr, rec := newRecorded(NonRecording())
	child := tr.StartSpan("down", opentracing.ChildOf(parent.Context()))
	child.Finish()
	require.Empty(t, rec.all())
	require.True(t, ctxOf(child).IsSampled(), "the caller's sampled flag travels on")
	require.Equal(t, ctxOf(parent).TraceID(), ctxOf(child).TraceID())
}

func TestSamplingPriorityTag(t *testing.T) {
	tr, rec := newRecorded(WithSampler(AlwaysOff()))
	tr.StartSpan("forced", opentracing.Tag{Key: string(ext.SamplingPriority), Value: uint16(1)}).Finish()
	tr2, rec2 := newRecorded()
	tr2.StartSpan("dropped", opentracing.Tag{Key: string(ext.SamplingPriority), Value: uint16(0)}).Finish()
	require.Len(t, rec.all(), 1)
	require.Empty(t, rec2.all())
}

func TestStartTimeAndFinishTime(t *testing.T) {
	tr, rec := newRecorded()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := tr.StartSpan("op", opentracing.StartTime(start))
	s.FinishWithOptions(opentracing.FinishOptions{FinishTime: start.Add(time.Second),
		LogRecords: []opentracing.LogRecord{{Timestamp: start.Add(time.Millisecond), Fields: []log.Field{log.String("event", "x")}}}})
	d := rec.all()[0]
	require.Equal(t, start, d.Start)
	require.Equal(t, time.Second, d.End.Sub(d.Start))
	require.Equal(t, "x", d.Events[0].Name)
}

func TestInjectExtractErrors(t *testing.T) {
	tr := New()
	s := tr.StartSpan("op")
	require.Equal(t, opentracing.ErrInvalidSpanContext, tr.Inject(nil, opentracing.TextMap, opentracing.TextMapCarrier{}))
	require.Equal(t, opentracing.ErrInvalidCarrier, tr.Inject(s.Context(), opentracing.TextMap, 42))
	require.Equal(t, opentracing.ErrInvalidCarrier, tr.Inject(s.Context(), opentracing.Binary, "x"))
	require.Equal(t, opentracing.ErrUnsupportedFormat, tr.Inject(s.Context(), "other", nil))
	_, err := tr.Extract(opentracing.TextMap, opentracing.TextMapCarrier{})
	require.Equal(t, opentracing.ErrSpanContextNotFound, err)
	_, err = tr.Extract(opentracing.Binary, bytes.NewReader(nil))
	require.Equal(t, opentracing.ErrSpanContextNotFound, err)
	_, err = tr.Extract(opentracing.Binary, bytes.NewReader([]byte{1, 2, 3}))
	require.ErrorIs(t, err, errBinaryCorrupt)
	_, err = tr.Extract(opentracing.Binary, strings.NewReader(strings.Repeat("x", maxBinarySize+10)))
	require.ErrorIs(t, err, errBinaryCorrupt)
}

func TestBinaryRoundTrip(t *testing.T) {
	tr := New()
	s := tr.StartSpan("op")
	s.SetBaggageItem("k1", "v1").SetBaggageItem("flow_id", "abc")
	var buf bytes.Buffer
	require.NoError(t, tr.Inject(s.Context(), opentracing.Binary, &buf))
	got, err := tr.Extract(opentracing.Binary, &buf)
	require.NoError(t, err)
	want := ctxOf(s)
	g := got.(*SpanContext)
	require.Equal(t, want.PropagationContext(), g.PropagationContext())
	require.Equal(t, want.Baggage().Members(), g.Baggage().Members())
}

func TestConcurrentSpanUse(t *testing.T) {
	tr, rec := newRecorded()
	s := tr.StartSpan("shared")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				s.SetTag("k", i)
				s.LogKV("g", g)
				s.SetBaggageItem("b", "v")
				_ = s.BaggageItem("b")
				child := tr.StartSpan("child", opentracing.ChildOf(s.Context()))
				child.Finish()
				if i == 100 && g == 0 {
					s.Finish()
				}
			}
		}(g)
	}
	wg.Wait()
	s.Finish()
	require.Equal(t, 8*200+1, len(rec.all()))
}

func TestChildMasksUnknownFlags(t *testing.T) {
	tr := New()
	h := opentracing.HTTPHeadersCarrier{}
	h.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff")
	parent, err := tr.Extract(opentracing.HTTPHeaders, h)
	require.NoError(t, err)
	child := tr.StartSpan("child", opentracing.ChildOf(parent))
	require.Equal(t, propagation.FlagSampled|propagation.FlagRandom, ctxOf(child).PropagationContext().Flags)
}

// reentrant is a Stringer that uses the span it is being set on.
type reentrant struct{ span opentracing.Span }

func (r reentrant) String() string {
	r.span.SetTag("inner", 1)
	return "outer"
}

func TestUserCodeRunsOutsideTheSpanLock(t *testing.T) {
	tr, rec := newRecorded()
	s := tr.StartSpan("op")
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.SetTag("outer", reentrant{s})
		s.LogFields(log.Object("obj", reentrant{s}), log.Lazy(func(fv log.Encoder) { s.SetTag("lazy", true) }))
		s.Finish()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("deadlock: user code ran under the span lock")
	}
	d := rec.all()[0]
	for _, k := range []string{"outer", "inner", "lazy"} {
		_, ok := attr(d, k)
		require.True(t, ok, k)
	}
}

func TestStartTagOptionsKeepTheirOrder(t *testing.T) {
	tr, rec := newRecorded()
	tr.StartSpan("a", opentracing.Tag{Key: "k", Value: 1}, opentracing.Tags{"k": 2}).Finish()
	tr.StartSpan("b", opentracing.Tags{"k": 1}, opentracing.Tag{Key: "k", Value: 2}, opentracing.Tag{Key: "j", Value: 3}).Finish()
	spans := rec.all()
	v, _ := attr(spans[0], "k")
	require.Equal(t, 2, v, "a later Tags option wins over an earlier Tag")
	v, _ = attr(spans[1], "k")
	require.Equal(t, 2, v, "a later Tag option wins over an earlier Tags")
	v, _ = attr(spans[1], "j")
	require.Equal(t, 3, v)
}

// An unsampled child of an unsampled span of this process carries its
// parent's context (no span id of its own, one small allocation); what
// it propagates is the trace the parent propagates, its baggage is its
// own, and a child the decision treats differently gets a context of its
// own.
func TestUnsampledChildSharesParentContext(t *testing.T) {
	tr, rec := newRecorded(WithSampler(ParentBased(AlwaysOff())))
	root := tr.StartSpan("root")
	child := tr.StartSpan("child", opentracing.ChildOf(root.Context()))
	require.Same(t, ctxOf(root), ctxOf(child))
	child.SetBaggageItem("k", "v")
	require.Equal(t, "v", child.BaggageItem("k"))
	require.Empty(t, root.BaggageItem("k"), "the parent's baggage is not the child's")
	require.Equal(t, ctxOf(root).TraceID(), ctxOf(child).TraceID())

	h := opentracing.HTTPHeadersCarrier{}
	require.NoError(t, tr.Inject(child.Context(), opentracing.HTTPHeaders, h))
	got, err := tr.Extract(opentracing.HTTPHeaders, h)
	require.NoError(t, err)
	require.Equal(t, ctxOf(root).TraceID(), got.(*SpanContext).TraceID())
	require.False(t, got.(*SpanContext).IsSampled())
	v, _ := got.(*SpanContext).Baggage().Get("k")
	require.Equal(t, "v", v)

	// Forced by sampling.priority: sampled, recorded, with its own id.
	forced := tr.StartSpan("forced", opentracing.ChildOf(root.Context()), opentracing.Tag{Key: string(ext.SamplingPriority), Value: 1})
	require.True(t, ctxOf(forced).IsSampled())
	require.NotEqual(t, ctxOf(root).SpanID(), ctxOf(forced).SpanID())
	require.Equal(t, ctxOf(root).TraceID(), ctxOf(forced).TraceID())
	forced.Finish()
	require.Len(t, rec.all(), 1)

	// A remote unsampled parent: this process's span has its own id.
	remote, err := tr.Extract(opentracing.HTTPHeaders, h)
	require.NoError(t, err)
	local := tr.StartSpan("local", opentracing.ChildOf(remote))
	require.NotEqual(t, remote.(*SpanContext).SpanID(), ctxOf(local).SpanID())
	require.True(t, ctxOf(local).SpanID().IsValid())
	require.Equal(t, uint64(4), tr.Stats().Started)
}

// A local child started without tags has room for two attributes; more
// spill over without losing or reordering any, and a tag set again is
// replaced in place.
func TestSmallSpanAttributesSpill(t *testing.T) {
	tr, rec := newRecorded()
	root := tr.StartSpan("root")
	child := tr.StartSpan("child", opentracing.ChildOf(root.Context()))
	for i := 0; i < 20; i++ {
		child.SetTag(fmt.Sprintf("k%d", i), i)
	}
	child.SetTag("k3", "again")
	child.Finish()
	d := rec.all()[0]
	require.Equal(t, "child", d.Name)
	require.Len(t, d.Attributes, 21) // sampling.probability first
	require.Equal(t, SamplingProbabilityKey, d.Attributes[0].Key)
	for i := 0; i < 20; i++ {
		require.Equal(t, fmt.Sprintf("k%d", i), d.Attributes[i+1].Key)
	}
	v, _ := attr(d, "k3")
	require.Equal(t, "again", v)
}

// An event's fields may live in the unused end of the span's attribute
// array: tags set afterwards must not overwrite them, nor they the tags,
// and a lazy logger's fields are kept as they were emitted.
func TestEventFieldsAndLaterTagsKeptApart(t *testing.T) {
	tr, rec := newRecorded()
	s := tr.StartSpan("op")
	for i := 0; i < 4; i++ {
		s.SetTag(fmt.Sprintf("t%d", i), i)
	}
	s.LogFields(log.String("event", "one"), log.String("a", "1"), log.Int("b", 2))
	for i := 4; i < 12; i++ {
		s.SetTag(fmt.Sprintf("t%d", i), i)
	}
	s.LogFields(log.String("c", "3"))
	s.LogFields(log.Lazy(func(fv log.Encoder) { fv.EmitString("lazy", "yes"); fv.EmitInt("n", 7) }))
	s.LogFields()
	s.Finish()
	d := rec.all()[0]
	require.Len(t, d.Attributes, 13) // sampling.probability, t0..t11
	for i := 0; i < 12; i++ {
		v, ok := attr(d, fmt.Sprintf("t%d", i))
		require.True(t, ok)
		require.Equal(t, i, v)
	}
	require.Len(t, d.Events, 4)
	require.Equal(t, "one", d.Events[0].Name)
	require.Equal(t, []Attribute{{Key: "a", Value: "1"}, {Key: "b", Value: 2}}, d.Events[0].Attributes)
	require.Equal(t, []Attribute{{Key: "c", Value: "3"}}, d.Events[1].Attributes)
	require.Equal(t, []Attribute{{Key: "lazy", Value: "yes"}, {Key: "n", Value: 7}}, d.Events[2].Attributes)
	require.NotNil(t, d.Events[3].Attributes)
	require.Empty(t, d.Events[3].Attributes)
}

// TestSetTagReplacesByKey: a tag set again replaces the value, for keys
// whose lengths collide in Span.keyLens (same length, lengths 32 apart)
// or not, for the sampler's own tags, and for a span from layered memory.
func TestSetTagReplacesByKey(t *testing.T) {
	rule := NewSamplerRule("probabilistic", 0.5)
	tr, rec := newRecorded(WithSampler(&countingSampler{d: SamplingDecision{Sampled: true, Probability: 1, Threshold: ProbabilityThreshold(1), Rule: rule}}))
	s := tr.StartSpan("op")
	k32 := strings.Repeat("k", 33) // 33 % 32 == 1, as "a"
	for round := range 3 {
		s.SetTag("a", round)
		s.SetTag("b", round)
		s.SetTag(k32, round)
		s.SetTag("abc", round)
		s.SetTag(SamplerTypeKey, "mine")
	}
	s.Finish()
	d := rec.all()[0]
	seen := map[string]int{}
	for _, a := range d.Attributes {
		seen[a.Key]++
	}
	for k, n := range seen {
		require.Equal(t, 1, n, k)
	}
	for _, k := range []string{"a", "b", k32, "abc"} {
		v, ok := attr(d, k)
		require.True(t, ok, k)
		require.Equal(t, 2, v, k)
	}
	v, ok := attr(d, SamplerTypeKey)
	require.True(t, ok)
	require.Equal(t, "mine", v)
}
