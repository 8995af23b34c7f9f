package tracer

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowtrace/flowtrace/propagation"
)

// SamplingParameters is what a Sampler decides on.
type SamplingParameters struct {
	TraceID propagation.TraceID
	// Name is the operation name the span starts with.
	Name string
	// Parent is the parent's context; it is invalid for a root span.
	Parent propagation.SpanContext
	// ParentRemote reports whether the parent came from another process.
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
type SamplingDecision struct {
	Sampled     bool
	Probability float64
	Threshold   Threshold
}

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

// ParentBased follows the parent's sampled flag and asks root for root spans.
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
	if p.Parent.IsValid() {
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
	return &rateLimited{perSecond: perSecond, max: maxOperations, next: next, now: time.Now}
}

type rateLimited struct {
	perSecond float64
	max       int
	next      Sampler
	now       func() time.Time

	ops      sync.Map // string -> *bucket
	count    atomic.Int64
	overflow bucket
}

type bucket struct {
	mu       sync.Mutex
	tokens   float64
	last     time.Time
	window   time.Time
	offered  int64
	accepted int64
	ratio    float64 // acceptance ratio of the previous window; 0 until known
}

func (s *rateLimited) bucketFor(name string) *bucket {
	if b, ok := s.ops.Load(name); ok {
		return b.(*bucket)
	}
	if s.count.Load() >= int64(s.max) {
		return &s.overflow
	}
	b, loaded := s.ops.LoadOrStore(name, &bucket{})
	if !loaded {
		s.count.Add(1)
	}
	return b.(*bucket)
}

func (s *rateLimited) ShouldSample(p SamplingParameters) SamplingDecision {
	d := s.next.ShouldSample(p)
	if !d.Sampled {
		return d
	}
	b := s.bucketFor(p.Name)
	now := s.now()
	b.mu.Lock()
	// A bucket holds a second's worth of tokens, and at least one, so that
	// rates below one per second still let a trace through now and then.
	burst := math.Max(1, s.perSecond)
	if b.last.IsZero() {
		b.last, b.window, b.tokens, b.ratio = now, now, burst, 1
	}
	if now.Sub(b.window) >= time.Second {
		if b.offered > 0 {
			b.ratio = float64(b.accepted) / float64(b.offered)
		}
		b.window, b.offered, b.accepted = now, 0, 0
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		// A clock that steps back adds nothing rather than taking tokens.
		b.tokens = math.Min(burst, b.tokens+elapsed.Seconds()*s.perSecond)
		b.last = now
	}
	b.offered++
	ok := b.tokens >= 1
	if ok {
		b.tokens--
		b.accepted++
	}
	// The running ratio of this window is the better estimate once it has
	// seen more offers than the limit allows in a second.
	ratio := b.ratio
	if float64(b.offered) > s.perSecond {
		ratio = float64(b.accepted) / float64(b.offered)
	}
	b.mu.Unlock()
	return SamplingDecision{Sampled: ok, Probability: d.Probability * ratio}
}

func (s *rateLimited) Description() string {
	return fmt.Sprintf("ratelimited{%g/s per operation, %s}", s.perSecond, s.next.Description())
}
