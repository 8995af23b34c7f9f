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
	// ops are the strategy's operations; with a lower bound each has its
	// budget here, found with the rule in one map lookup.
	ops map[string]*opRule

	// RATE_LIMITING: one budget for the whole service.
	limit tracer.Sampler
	// Per-operation lower bound: a budget per operation name, at most
	// maxOperations of them (later names share one).
	lowerBound tokenbucket.Rate
	windows    *tokenbucket.Table[window]
	now        func() time.Time
}

type opRule struct {
	rule
	budget *tokenbucket.Entry[window]
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
	end                  time.Time // of the current window
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
		lowerBound := tokenbucket.PerSecond(res.lowerBound)
		s.ops = make(map[string]*opRule, len(res.operations))
		for _, op := range res.operations {
			o := &opRule{rule: newRule(op.probability)}
			if lowerBound.Valid() {
				o.budget = &tokenbucket.Entry[window]{}
			}
			s.ops[op.name] = o
		}
		if lowerBound.Valid() {
			s.lowerBound = lowerBound
			// Names the strategy does not list share the bound on
			// operations with those it does.
			s.windows = tokenbucket.NewTable[window](max(1, maxOperations-len(res.operations)))
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
	r, budget := s.def, (*tokenbucket.Entry[window])(nil)
	if o, ok := s.ops[p.Name]; ok {
		r, budget = o.rule, o.budget
	}
	kept := r.threshold.ShouldSample(p.Randomness())
	if s.windows == nil {
		return tracer.SamplingDecision{Sampled: kept, Probability: r.probability, Threshold: r.threshold, Rule: r.rule}
	}
	if budget == nil {
		budget = s.windows.Get(p.Name)
	}
	return s.withLowerBound(budget, r, kept)
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
func (s *strategy) withLowerBound(e *tokenbucket.Entry[window], r rule, kept bool) tracer.SamplingDecision {
	now := s.now()
	e.Mu.Lock()
	w := &e.Value
	if w.end.IsZero() {
		w.end, w.ratio = now.Add(time.Second), 1
	}
	// Before, not Sub: a comparison of monotonic readings, the cheapest
	// test on this path.
	if !now.Before(w.end) {
		if w.offered > 0 {
			w.ratio = float64(w.byThreshold+w.byLowerBound) / float64(w.offered)
		}
		w.lowerBoundHit = material(w.byLowerBound, w.byThreshold)
		w.kept = w.byThreshold + w.byLowerBound
		w.end, w.offered, w.byThreshold, w.byLowerBound = now.Add(time.Second), 0, 0, 0
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

// monotonicClock returns a clock for the lower-bound budgets that reads
// only the monotonic clock (one call, where time.Now makes two): buckets
// and windows measure durations, never dates.
func monotonicClock() func() time.Time {
	base := time.Now()
	return func() time.Time { return base.Add(time.Since(base)) }
}
