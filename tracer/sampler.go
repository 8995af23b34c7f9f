package tracer

import (
	"fmt"
	"math"
	"time"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/propagation"
)

// SamplingParameters is what a Sampler decides on.
type SamplingParameters struct {
	TraceID propagation.TraceID
	// Name is the operation name the span starts with.
	Name string
	// Parent is the parent's context; it is invalid for a root span.
	Parent propagation.SpanContext
	// ParentRemote reports whether the parent came from another process:
	// it was made by Extract or RemoteContext, not by a span of this
	// tracer (whatever the parent's sampling decision or probability).
	ParentRemote bool
}

// SamplingDecision is a Sampler's answer. Probability is the chance that a
// trace like this one is sampled (1 for always_on; the ratio for
// traceidratio; the current acceptance ratio for a rate limit). Tools weight
// a sampled trace by 1/Probability. A Probability of NaN means the decision
// is the parent's (ParentBased): the span keeps the probability its trace
// already has.
//
// Threshold is set only when the decision is exactly "Threshold.ShouldSample
// (the parameters' Randomness)", as TraceIDRatio's is: the tracer then
// publishes it in the tracestate (ot=th) for sampled spans, so that
// consistent samplers downstream (another service, a collector) agree with
// this one. Any other decision leaves it zero, and the tracer erases th
// rather than let a threshold travel that did not make the decision.
//
// Rule, when set, names the rule that decided (Jaeger's sampler.type and
// sampler.param); a sampled root span records it as those two tags, which
// Jaeger's adaptive sampling reads to adapt at all.
type SamplingDecision struct {
	Sampled     bool
	Probability float64
	Threshold   Threshold
	Rule        *SamplerRule
}

// Tag keys of a decision's Rule.
const (
	SamplerTypeKey  = "sampler.type"
	SamplerParamKey = "sampler.param"
)

// SamplerRule is what a root span records about the rule that sampled it:
// sampler.type ("probabilistic", "ratelimiting", "lowerbound", ...) and
// sampler.param (its probability or rate). Build one per rule with
// NewSamplerRule and point decisions at it: the tag values are boxed once
// there, so a decision that carries a rule costs no allocation.
type SamplerRule struct {
	typ, param any
}

// NewSamplerRule returns the rule of type typ and parameter param.
func NewSamplerRule(typ string, param float64) *SamplerRule {
	return &SamplerRule{typ: typ, param: param}
}

// Type returns sampler.type.
func (r *SamplerRule) Type() string { s, _ := r.typ.(string); return s }

// Param returns sampler.param.
func (r *SamplerRule) Param() float64 { f, _ := r.param.(float64); return f }

// Sampler decides whether a new span is recorded. It is called on the hot
// path and from many goroutines at once.
type Sampler interface {
	ShouldSample(p SamplingParameters) SamplingDecision
	// Description names the sampler and its arguments, e.g. "traceidratio{0.25}".
	Description() string
}

type constSampler bool

func (s constSampler) ShouldSample(SamplingParameters) SamplingDecision {
	if s {
		return SamplingDecision{Sampled: true, Probability: 1}
	}
	return SamplingDecision{}
}

func (s constSampler) Description() string {
	if s {
		return "always_on"
	}
	return "always_off"
}

// AlwaysOn samples every span.
func AlwaysOn() Sampler { return constSampler(true) }

// AlwaysOff samples no span.
func AlwaysOff() Sampler { return constSampler(false) }

type ratioSampler struct {
	ratio     float64
	threshold Threshold
}

// TraceIDRatio samples a fraction of traces by OpenTelemetry's consistent
// probability rule: a trace is kept iff the threshold for ratio is at most
// its randomness (the rv the caller's tracestate carries, else the low 56
// bits of the trace id), so every service, flowtrace or OpenTelemetry, that
// uses the same ratio makes the same decision, and one with a lower ratio
// keeps a subset. A ratio outside [0, 1] is clamped.
func TraceIDRatio(ratio float64) Sampler {
	if math.IsNaN(ratio) || ratio < 0 {
		ratio = 0
	}
	if ratio > 1 {
		ratio = 1
	}
	return ratioSampler{ratio: ratio, threshold: ProbabilityThreshold(ratio)}
}

func (s ratioSampler) ShouldSample(p SamplingParameters) SamplingDecision {
	return SamplingDecision{
		Sampled:     s.threshold.ShouldSample(p.Randomness()),
		Probability: s.threshold.Probability(),
		Threshold:   s.threshold,
	}
}

func (s ratioSampler) Description() string { return fmt.Sprintf("traceidratio{%g}", s.ratio) }

type parentBased struct{ root Sampler }

// ParentBased follows the parent's sampled flag and asks root for root spans
// and for children of a parent whose decision was deferred
// (propagation.SpanContext.Deferred).
// A child of a remote parent records the probability of the parent's th
// only when that th is consistent with the parent's decision (the parent is
// sampled and its randomness passes the threshold); otherwise the tracer
// erases th and the child records no probability.
func ParentBased(root Sampler) Sampler {
	if root == nil {
		root = AlwaysOn()
	}
	return parentBased{root: root}
}

func (s parentBased) ShouldSample(p SamplingParameters) SamplingDecision {
	// A deferred parent (B3 without a sampling state) made no decision to
	// follow: root decides, as for a root span of the same trace.
	if p.Parent.IsValid() && !p.Parent.Deferred {
		return SamplingDecision{Sampled: p.Parent.IsSampled(), Probability: math.NaN()}
	}
	return s.root.ShouldSample(p)
}

func (s parentBased) Description() string { return "parentbased{" + s.root.Description() + "}" }

// RateLimited caps new traces at perSecond for each operation name, then asks
// next. At most maxOperations names get a budget of their own; later names
// share one overflow budget, so a flood of distinct names cannot grow memory.
// The decision's Probability is the operation's acceptance ratio over the
// previous second times next's probability. A rate limit does not decide by
// the trace's randomness, so its decisions carry no Threshold: a sampled
// trace publishes no th, and consistent samplers downstream treat it as of
// unknown probability instead of trusting a false one.
func RateLimited(perSecond float64, maxOperations int, next Sampler) Sampler {
	if next == nil {
		next = AlwaysOn()
	}
	if maxOperations <= 0 {
		maxOperations = 2000
	}
	if perSecond <= 0 || math.IsNaN(perSecond) || math.IsInf(perSecond, 0) {
		return next
	}
	return &rateLimited{
		perSecond: perSecond,
		rate:      tokenbucket.PerSecond(perSecond),
		next:      next,
		now:       time.Now,
		table:     tokenbucket.NewTable[window](maxOperations),
	}
}

// rateLimited keeps, per operation, a token bucket (internal/tokenbucket,
// the one the edge's forced-sampling cap uses) and the acceptance window
// that gives the decision its probability.
type rateLimited struct {
	perSecond float64
	rate      tokenbucket.Rate
	next      Sampler
	now       func() time.Time
	table     *tokenbucket.Table[window]
}

// window counts the offers and acceptances of one operation over a second.
type window struct {
	start    time.Time
	offered  int64
	accepted int64
	ratio    float64 // acceptance ratio of the previous window; 0 until known
}

func (s *rateLimited) ShouldSample(p SamplingParameters) SamplingDecision {
	d := s.next.ShouldSample(p)
	if !d.Sampled {
		return d
	}
	e := s.table.Get(p.Name)
	now := s.now()
	e.Mu.Lock()
	w := &e.Value
	if w.start.IsZero() {
		w.start, w.ratio = now, 1
	}
	if now.Sub(w.start) >= time.Second {
		if w.offered > 0 {
			w.ratio = float64(w.accepted) / float64(w.offered)
		}
		w.start, w.offered, w.accepted = now, 0, 0
	}
	w.offered++
	ok := e.Bucket.Take(s.rate, now)
	if ok {
		w.accepted++
	}
	// The running ratio of this window is the better estimate once it has
	// seen more offers than the limit allows in a second.
	ratio := w.ratio
	if float64(w.offered) > s.perSecond {
		ratio = float64(w.accepted) / float64(w.offered)
	}
	e.Mu.Unlock()
	// The next sampler's rule still names what chose the trace; the budget
	// only thins it.
	return SamplingDecision{Sampled: ok, Probability: d.Probability * ratio, Rule: d.Rule}
}

func (s *rateLimited) Description() string {
	return fmt.Sprintf("ratelimited{%g/s per operation, %s}", s.perSecond, s.next.Description())
}

// inheritsUnsampled reports whether s leaves a child of a valid parent
// that made a decision (not Deferred) unsampled when the parent is
// unsampled, without looking at anything else: ParentBased follows the
// parent, AlwaysOff samples nothing. The tracer then starts such a child
// without asking s.
func inheritsUnsampled(s Sampler) bool {
	switch s := s.(type) {
	case parentBased:
		return true
	case constSampler:
		return !bool(s)
	}
	return false
}
