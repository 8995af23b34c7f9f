package remotesampling

import (
	"time"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/tracer"
)

// strategy is one strategy compiled for deciding: never changed once
// published (the sampler swaps a pointer to a new one), apart from the
// token buckets and acceptance windows it owns, which have locks of their
// own.
type strategy struct {
	res     response
	version uint64
	updated time.Time // zero for the initial strategy

	def rule
	ops map[string]rule

	// RATE_LIMITING: one budget for the whole service.
	limit tracer.Sampler
	// Per-operation lower bound: a budget per operation name, at most
	// maxOperations of them (later names share one).
	lowerBound tokenbucket.Rate
	windows    *tokenbucket.Table[window]
	now        func() time.Time
}

type rule struct {
	probability float64
	threshold   tracer.Threshold
	rule        *tracer.SamplerRule
	// lowerBound names a decision of the lower bound as Jaeger clients do:
	// sampler.type=lowerbound, sampler.param the operation's probability.
	lowerBound *tracer.SamplerRule
}

func newRule(p float64) rule {
	return rule{
		probability: p, threshold: tracer.ProbabilityThreshold(p),
		rule: tracer.NewSamplerRule("probabilistic", p), lowerBound: tracer.NewSamplerRule("lowerbound", p),
	}
}

// window counts, per operation and second, the traces offered and those
// kept by the probability and by the lower bound.
type window struct {
	start                time.Time
	offered, byThreshold int64
	byLowerBound         int64
	// Of the previous window: the share kept, and whether the lower bound
	// kept a material part of it.
	ratio         float64
	lowerBoundHit bool
	kept          int64
}

func compile(res response, version uint64, updated time.Time, maxOperations int, now func() time.Time) *strategy {
	s := &strategy{res: res, version: version, updated: updated, now: now}
	switch res.kind {
	case kindRateLimiting:
		// One key for the service: the budget is not per operation.
		s.limit = tracer.RateLimited(res.rate, 1, tracer.AlwaysOn())
		s.def.rule = tracer.NewSamplerRule("ratelimiting", res.rate)
		if res.rate <= 0 {
			// Jaeger clients keep nothing at a rate of 0.
			s.limit = tracer.AlwaysOff()
		}
	case kindPerOperation:
		s.def = newRule(res.probability)
		s.ops = make(map[string]rule, len(res.operations))
		for _, op := range res.operations {
			s.ops[op.name] = newRule(op.probability)
		}
		if r := tokenbucket.PerSecond(res.lowerBound); r.Valid() {
			s.lowerBound = r
			s.windows = tokenbucket.NewTable[window](maxOperations)
		}
	default:
		s.def = newRule(res.probability)
	}
	return s
}

func (s *strategy) decide(p tracer.SamplingParameters) tracer.SamplingDecision {
	if s.limit != nil {
		d := s.limit.ShouldSample(tracer.SamplingParameters{TraceID: p.TraceID, Parent: p.Parent, ParentRemote: p.ParentRemote})
		d.Rule = s.def.rule
		return d
	}
	r := s.def
	if o, ok := s.ops[p.Name]; ok {
		r = o
	}
	kept := r.threshold.ShouldSample(p.Randomness())
	if s.windows == nil {
		return tracer.SamplingDecision{Sampled: kept, Probability: r.probability, Threshold: r.threshold, Rule: r.rule}
	}
	return s.withLowerBound(p.Name, r, kept)
}

// material reports whether the lower bound kept more than 1 % of what was
// kept. Below that, weighting the probability's traces by 1/p is off by
// less than 1 %, and they keep their th: a busy operation's bucket still
// lets a trace through now and then (every trace takes a token), which
// must not cost all of its traces their consistent th.
func material(byLowerBound, byThreshold int64) bool {
	return byLowerBound > 0 && 100*byLowerBound > byLowerBound+byThreshold
}

// withLowerBound applies the per-operation lower bound, as Jaeger's
// guaranteed-throughput sampler does: every trace takes a token, and a
// trace the probability refused is kept if there was one. While the lower
// bound keeps a material share (material), the probability no longer tells
// how many traces a kept one stands for: every trace of the operation then
// has the same chance of being kept, the share kept over the last second,
// which the decision records (and th is erased). Otherwise the probability
// decides and publishes its th; the few lower-bound traces record the
// share kept.
func (s *strategy) withLowerBound(name string, r rule, kept bool) tracer.SamplingDecision {
	e := s.windows.Get(name)
	now := s.now()
	e.Mu.Lock()
	w := &e.Value
	if w.start.IsZero() {
		w.start, w.ratio = now, 1
	}
	if now.Sub(w.start) >= time.Second {
		if w.offered > 0 {
			w.ratio = float64(w.byThreshold+w.byLowerBound) / float64(w.offered)
		}
		w.lowerBoundHit = material(w.byLowerBound, w.byThreshold)
		w.kept = w.byThreshold + w.byLowerBound
		w.start, w.offered, w.byThreshold, w.byLowerBound = now, 0, 0, 0
	}
	w.offered++
	token := e.Bucket.Take(s.lowerBound, now)
	byLowerBound := !kept && token
	switch {
	case kept:
		w.byThreshold++
	case byLowerBound:
		w.byLowerBound++
	}
	// Early in a window, the previous one tells what is material.
	active := w.lowerBoundHit || material(w.byLowerBound, max(w.byThreshold, w.kept))
	ratio := w.ratio
	if float64(w.offered) > s.lowerBound.PerSecond {
		ratio = float64(w.byThreshold+w.byLowerBound) / float64(w.offered)
	}
	e.Mu.Unlock()
	switch {
	case kept && !active:
		return tracer.SamplingDecision{Sampled: true, Probability: r.probability, Threshold: r.threshold, Rule: r.rule}
	case kept:
		return tracer.SamplingDecision{Sampled: true, Probability: max(ratio, r.probability), Rule: r.rule}
	case byLowerBound:
		return tracer.SamplingDecision{Sampled: true, Probability: max(ratio, r.probability), Rule: r.lowerBound}
	}
	return tracer.SamplingDecision{Probability: r.probability}
}
