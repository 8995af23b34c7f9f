package tracer

import (
	"bytes"
	"sync"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
)

// remoteProbe records what the sampler is told about each span's parent.
type remoteProbe struct {
	next Sampler
	mu   sync.Mutex
	seen map[string]bool // operation name → ParentRemote
}

func (p *remoteProbe) ShouldSample(sp SamplingParameters) SamplingDecision {
	p.mu.Lock()
	p.seen[sp.Name] = sp.ParentRemote
	p.mu.Unlock()
	return p.next.ShouldSample(sp)
}

func (p *remoteProbe) Description() string { return "probe" }

// TestParentRemote: the sampler's ParentRemote says where the parent came
// from (Extract or RemoteContext: another process; a span of this tracer:
// this one), whatever the parent's probability. It used to be guessed from
// an unknown probability, so a local parent that recorded none (unsampled,
// or a child of a caller that published no th) was taken for a remote one.
func TestParentRemote(t *testing.T) {
	traceparent := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	extract := func(t *testing.T, tr *Tracer) opentracing.SpanContext {
		sc, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier{"Traceparent": {traceparent}})
		require.NoError(t, err)
		return sc
	}
	for _, tc := range []struct {
		name string
		root Sampler // ParentBased's root sampler
		// start returns the parent of the span named "child".
		parent func(t *testing.T, tr *Tracer) opentracing.SpanContext
		remote bool
	}{
		{"extracted", AlwaysOn(), extract, true},
		{"binary extracted", AlwaysOn(), func(t *testing.T, tr *Tracer) opentracing.SpanContext {
			var buf bytes.Buffer
			require.NoError(t, tr.Inject(tr.StartSpan("sender").Context(), opentracing.Binary, &buf))
			sc, err := tr.Extract(opentracing.Binary, &buf)
			require.NoError(t, err)
			return sc
		}, true},
		{"remote context", AlwaysOn(), func(t *testing.T, tr *Tracer) opentracing.SpanContext {
			wire, ok := propagation.ParseTraceparent(traceparent)
			require.True(t, ok)
			return tr.RemoteContext(propagation.State{SpanContext: wire})
		}, true},
		{"local root", AlwaysOn(), func(t *testing.T, tr *Tracer) opentracing.SpanContext {
			return tr.StartSpan("parent").Context()
		}, false},
		{"local unsampled root: probability unknown", AlwaysOff(), func(t *testing.T, tr *Tracer) opentracing.SpanContext {
			return tr.StartSpan("parent").Context()
		}, false},
		{"local child of a caller without th: probability unknown", AlwaysOn(), func(t *testing.T, tr *Tracer) opentracing.SpanContext {
			sp := tr.StartSpan("parent", opentracing.ChildOf(extract(t, tr)))
			require.Nil(t, sp.Context().(*SpanContext).probability, "the caller published no probability")
			return sp.Context()
		}, false},
		{"local child with baggage set", AlwaysOn(), func(t *testing.T, tr *Tracer) opentracing.SpanContext {
			sp := tr.StartSpan("parent", opentracing.ChildOf(extract(t, tr)))
			sp.SetBaggageItem("flow_id", "f-1")
			return sp.Context()
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe := &remoteProbe{next: ParentBased(tc.root), seen: map[string]bool{}}
			tr := New(WithSampler(probe))
			tr.StartSpan("child", opentracing.ChildOf(tc.parent(t, tr))).Finish()
			remote, ok := probe.seen["child"]
			require.True(t, ok, "the sampler was asked")
			require.Equal(t, tc.remote, remote)
		})
	}
}

// TestPassThroughChildIsLocal: a disabled SDK's span carries its caller's
// context unchanged, but it is a span of this process: the context it
// gives is not marked remote.
func TestPassThroughChildIsLocal(t *testing.T) {
	tr := New(PassThrough())
	sc, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier{
		"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	})
	require.NoError(t, err)
	require.True(t, sc.(*SpanContext).remote)
	child := tr.StartSpan("child", opentracing.ChildOf(sc)).Context().(*SpanContext)
	require.Equal(t, sc.(*SpanContext).wire, child.wire, "carried unchanged")
	require.False(t, child.remote)
}
