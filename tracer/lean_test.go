package tracer

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
)

// countingSampler counts its calls and answers with d.
type countingSampler struct {
	calls atomic.Int64
	d     SamplingDecision
	last  atomic.Pointer[SamplingParameters]
}

func (s *countingSampler) ShouldSample(p SamplingParameters) SamplingDecision {
	s.calls.Add(1)
	s.last.Store(&p)
	return s.d
}
func (s *countingSampler) Description() string { return "counting" }

// The lean start path asks the sampler once for every root, as decide
// does, with the same parameters; a child of an unsampled local parent
// asks a sampler that does not follow the parent (a custom one) too, and
// one that does (ParentBased) is not asked for its root.
func TestLeanPathConsultsSamplerForRoots(t *testing.T) {
	s := &countingSampler{}
	tr := New(WithSampler(s))
	root := tr.StartSpan("root")
	require.Equal(t, int64(1), s.calls.Load())
	p := s.last.Load()
	require.Equal(t, "root", p.Name)
	require.Equal(t, ctxOf(root).TraceID(), p.TraceID)
	require.False(t, p.Parent.IsValid())
	require.False(t, p.ParentRemote)

	tr.StartSpan("child", opentracing.ChildOf(root.Context())).Finish()
	require.Equal(t, int64(2), s.calls.Load(), "a sampler that may sample a child of an unsampled parent is asked")
	require.Equal(t, ctxOf(root).SpanID(), s.last.Load().Parent.SpanID)

	// A context with baggage only: a root of a new trace, asked.
	bag := &SpanContext{baggage: propagation.NewBaggage(propagation.Member{Key: FlowIDKey, Value: "f1"})}
	fromBag := tr.StartSpan("bag", opentracing.ChildOf(bag))
	require.Equal(t, int64(3), s.calls.Load())
	require.Equal(t, "f1", fromBag.BaggageItem(FlowIDKey))
	require.True(t, ctxOf(fromBag).IsValid())

	pb := &countingSampler{}
	tr2 := New(WithSampler(ParentBased(pb)))
	root2 := tr2.StartSpan("root")
	tr2.StartSpan("child", opentracing.ChildOf(root2.Context())).Finish()
	require.Equal(t, int64(1), pb.calls.Load(), "ParentBased decides a child by its parent")
	require.Equal(t, uint64(2), tr2.Stats().Started)
	require.Zero(t, tr2.Stats().Sampled)
}

// A root the lean path's sampler samples is the general path's span: the
// rule's tags, the probability, the threshold in the tracestate, counted
// as sampled and recorded at Finish.
func TestLeanPathSampledRootIsRecorded(t *testing.T) {
	rule := NewSamplerRule("probabilistic", 0.5)
	th := ProbabilityThreshold(1)
	s := &countingSampler{d: SamplingDecision{Sampled: true, Probability: 1, Threshold: th, Rule: rule}}
	tr, rec := newRecorded(WithSampler(s))
	root := tr.StartSpan("root")
	require.True(t, ctxOf(root).IsSampled())
	require.True(t, ctxOf(root).SpanID().IsValid())
	root.Finish()
	require.Equal(t, int64(1), s.calls.Load())
	d := rec.all()
	require.Len(t, d, 1)
	v, ok := attr(d[0], SamplerTypeKey)
	require.True(t, ok)
	require.Equal(t, "probabilistic", v)
	v, _ = attr(d[0], SamplingProbabilityKey)
	require.Equal(t, 1.0, v)
	require.Equal(t, uint64(1), tr.Stats().Finished)

	// The same through a baggage-only parent: its baggage is tagged.
	bag := &SpanContext{baggage: propagation.NewBaggage(propagation.Member{Key: FlowIDKey, Value: "f2"})}
	tr.StartSpan("bag", opentracing.FollowsFrom(bag)).Finish()
	d = rec.all()
	require.Len(t, d, 2)
	v, _ = attr(d[1], FlowIDKey)
	require.Equal(t, "f2", v)
	require.False(t, d[1].ParentSpanID.IsValid())
}

// An unsampled root from the lean path propagates as before: its trace id,
// the sampled flag off, the random flag, its baggage and flow id; an
// unsampled child shares its context and SetBaggageItem gives the child
// its own.
func TestLeanUnsampledContextPropagates(t *testing.T) {
	for _, sampler := range []Sampler{AlwaysOff(), ParentBased(AlwaysOff()), TraceIDRatio(0)} {
		tr, rec := newRecorded(WithSampler(sampler))
		root := tr.StartSpan("root")
		root.SetBaggageItem(FlowIDKey, "flow-1")
		sc := ctxOf(root)
		require.True(t, sc.IsValid())
		require.Equal(t, propagation.FlagRandom, sc.PropagationContext().Flags)
		child := tr.StartSpan("child", opentracing.ChildOf(root.Context()))
		require.Same(t, ctxOf(root), ctxOf(child))
		child.SetBaggageItem("k", "v")
		require.NotSame(t, ctxOf(root), ctxOf(child))
		require.Empty(t, root.BaggageItem("k"))
		second := tr.StartSpan("second", opentracing.ChildOf(root.Context()))
		require.Same(t, ctxOf(root), ctxOf(second), "a second child shares the context too")

		for _, s := range []opentracing.Span{root, child, second} {
			h := opentracing.HTTPHeadersCarrier{}
			require.NoError(t, tr.Inject(s.Context(), opentracing.HTTPHeaders, h))
			got, err := tr.Extract(opentracing.HTTPHeaders, h)
			require.NoError(t, err)
			g := got.(*SpanContext)
			require.Equal(t, sc.TraceID(), g.TraceID())
			require.Equal(t, sc.SpanID(), g.SpanID())
			require.False(t, g.IsSampled())
			v, _ := g.Baggage().Get(FlowIDKey)
			require.Equal(t, "flow-1", v)
		}
		second.Finish()
		child.Finish()
		root.Finish()
		require.Empty(t, rec.all())
		st := tr.Stats()
		require.Equal(t, uint64(3), st.Started)
		require.Zero(t, st.Sampled)
		require.Zero(t, st.Finished)
	}
}

// sampling.priority on the start of a child of an unsampled span still
// samples it (the lean path leaves spans with start tags to decide), and
// set after the start on an unsampled span it still changes nothing.
func TestLeanPathPriorityUpgrade(t *testing.T) {
	for _, sampler := range []Sampler{AlwaysOff(), ParentBased(AlwaysOff())} {
		tr, rec := newRecorded(WithSampler(sampler))
		root := tr.StartSpan("root")
		root.SetTag(string(ext.SamplingPriority), 1)
		require.False(t, ctxOf(root).IsSampled())
		forced := tr.StartSpan("forced", opentracing.ChildOf(root.Context()), opentracing.Tag{Key: string(ext.SamplingPriority), Value: 1})
		require.True(t, ctxOf(forced).IsSampled())
		require.Equal(t, ctxOf(root).TraceID(), ctxOf(forced).TraceID())
		require.NotEqual(t, ctxOf(root).SpanID(), ctxOf(forced).SpanID())
		forcedRoot := tr.StartSpan("forced-root", opentracing.Tags{string(ext.SamplingPriority): 1})
		require.True(t, ctxOf(forcedRoot).IsSampled())
		forced.Finish()
		forcedRoot.Finish()
		root.Finish()
		require.Len(t, rec.all(), 2)
		require.Equal(t, uint64(2), tr.Stats().Sampled)
	}
}

// A parent the lean path must not share: sampled, remote, debug, with a
// th to erase, or with flags beyond random; the child gets decide's
// context, as before.
func TestLeanPathLeavesOtherParents(t *testing.T) {
	tr := New(WithSampler(ParentBased(AlwaysOff())))
	tid := propagation.TraceID{1}
	sid := propagation.SpanID{2}
	for name, p := range map[string]*SpanContext{
		"remote":     {wire: propagation.SpanContext{TraceID: tid, SpanID: sid}, remote: true},
		"th":         {wire: propagation.SpanContext{TraceID: tid, SpanID: sid, TraceState: "ot=th:8"}},
		"flags":      {wire: propagation.SpanContext{TraceID: tid, SpanID: sid, Flags: 0x04}},
		"deferred":   {wire: propagation.SpanContext{TraceID: tid, SpanID: sid, Deferred: true}},
		"probablity": {wire: propagation.SpanContext{TraceID: tid, SpanID: sid}, probability: 0.5},
	} {
		child := tr.StartSpan("child", opentracing.ChildOf(p))
		require.NotSame(t, p, ctxOf(child), name)
		require.Equal(t, tid, ctxOf(child).TraceID(), name)
	}
	other := tr.StartSpan("child", opentracing.ChildOf(&SpanContext{wire: propagation.SpanContext{TraceID: tid, SpanID: sid, TraceState: "vendor=x"}}))
	require.Equal(t, "vendor=x", ctxOf(other).PropagationContext().TraceState)
}

// The lean path's root ids: valid, distinct, different per tracer, and
// random in the low 56 bits that consistent probability sampling reads
// (TraceIDRatio(0.25) keeps about a quarter of the roots).
func TestLeanRootIDs(t *testing.T) {
	a, b := New(WithSampler(AlwaysOff())), New(WithSampler(AlwaysOff()))
	seen := map[propagation.TraceID]bool{}
	spans := map[propagation.SpanID]bool{}
	for range 20000 {
		for _, tr := range []*Tracer{a, b} {
			sc := ctxOf(tr.StartSpan("root"))
			require.True(t, sc.IsValid())
			require.False(t, seen[sc.TraceID()], "trace ids are distinct")
			seen[sc.TraceID()] = true
			spans[sc.SpanID()] = true
		}
	}
	require.Greater(t, len(spans), 39990, "span ids are all but surely distinct")

	var kept int
	ratio := New(WithSampler(TraceIDRatio(0.25)))
	const n = 40000
	for range n {
		if ctxOf(ratio.StartSpan("root")).IsSampled() {
			kept++
		}
	}
	require.InDelta(t, 0.25, float64(kept)/n, 0.02)

	var g idSource
	g.init()
	g.state.Store(0 - 2*g.gamma) // the next state is 0, which mix64 maps to 0
	tid, sid := g.root()
	require.True(t, tid.IsValid(), "the key keeps the low half non-zero")
	require.True(t, sid.IsValid())
}

// Concurrent unsampled roots each get their own memory (a leanBlock's
// roots are handed out once) and their first children the roots' spare
// spans, once each.
func TestLeanRootsConcurrent(t *testing.T) {
	tr := New(WithSampler(AlwaysOff()))
	const goroutines, per = 8, 500
	out := make(chan [3]opentracing.Span, goroutines*per)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				root := tr.StartSpan("root")
				a := tr.StartSpan("a", opentracing.ChildOf(root.Context()))
				b := tr.StartSpan("b", opentracing.ChildOf(root.Context()))
				out <- [3]opentracing.Span{root, a, b}
			}
		}()
	}
	wg.Wait()
	close(out)
	spans := map[opentracing.Span]bool{}
	ids := map[propagation.TraceID]bool{}
	for s := range out {
		for _, sp := range s {
			require.False(t, spans[sp], "a span is handed out once")
			spans[sp] = true
		}
		require.Same(t, ctxOf(s[0]), ctxOf(s[1]))
		require.Same(t, ctxOf(s[0]), ctxOf(s[2]))
		require.False(t, ids[ctxOf(s[0]).TraceID()])
		ids[ctxOf(s[0]).TraceID()] = true
	}
	require.Len(t, ids, goroutines*per)
	require.Equal(t, uint64(3*goroutines*per), tr.Stats().Started)
}

// Reference's one-word options take the lean path as SpanReference does.
func TestLeanPathReferenceOption(t *testing.T) {
	tr := New(WithSampler(AlwaysOff()))
	root := tr.StartSpan("root")
	for _, typ := range []opentracing.SpanReferenceType{opentracing.ChildOfRef, opentracing.FollowsFromRef} {
		child := tr.StartSpan("child", Reference(typ, root.Context()))
		require.Same(t, ctxOf(root), ctxOf(child))
	}
}
