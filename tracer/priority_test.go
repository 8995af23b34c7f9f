package tracer

import (
	"math"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
)

func TestSamplingPriority(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sampler   Sampler
		priority  any
		sampled   bool
		wantProb  any // sampling.probability attribute, nil when absent
		unsampled bool
	}{
		{"forced on over always_off", AlwaysOff(), 1, true, 1.0, false},
		{"forced on over a ratio", TraceIDRatio(0), uint16(1), true, 1.0, false},
		{"forced over an accepting sampler records 1", TraceIDRatio(1), 1, true, 1.0, false},
		{"forced off", AlwaysOn(), 0, false, nil, true},
		{"unknown type is ignored", AlwaysOff(), "1", false, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			tr := New(WithSampler(tc.sampler), WithProcessor(&rec))
			sp := tr.StartSpan("op", opentracing.Tag{Key: string(ext.SamplingPriority), Value: tc.priority})
			if got := sp.Context().(*SpanContext).IsSampled(); got != tc.sampled {
				t.Fatalf("sampled = %v, want %v", got, tc.sampled)
			}
			if tc.unsampled {
				return
			}
			sp.Finish()
			prob, _ := attr(rec.all()[0], SamplingProbabilityKey)
			if prob != tc.wantProb {
				t.Fatalf("sampling.probability = %v, want %v", prob, tc.wantProb)
			}
		})
	}
	d := applyPriority(SamplingDecision{Probability: 0.25}, 1)
	if !d.Sampled || d.Probability != 1 {
		t.Fatalf("%+v", d)
	}
	d = applyPriority(SamplingDecision{Sampled: true, Probability: math.NaN()}, 0)
	if d.Sampled {
		t.Fatalf("%+v", d)
	}
}

// TestDefaultBaggageTags: the critical operation and traffic source an edge
// puts in baggage mark every span of the trace, as the flow id does.
func TestDefaultBaggageTags(t *testing.T) {
	var rec recorder
	tr := New(WithProcessor(&rec))
	root := tr.StartSpan("edge")
	root.SetBaggageItem("critical_operation", "checkout")
	root.SetBaggageItem("traffic_source", "app")
	root.SetBaggageItem("tenant", "acme")
	child := tr.StartSpan("child", opentracing.ChildOf(root.Context()))
	child.Finish()
	root.Finish()
	for _, s := range rec.all() {
		for k, want := range map[string]any{"critical_operation": "checkout", "traffic_source": "app"} {
			if got, _ := attr(s, k); got != want {
				t.Errorf("%s: %s = %v, want %v", s.Name, k, got, want)
			}
		}
		if _, ok := attr(s, "tenant"); ok {
			t.Errorf("%s: tenant baggage copied", s.Name)
		}
	}
}
