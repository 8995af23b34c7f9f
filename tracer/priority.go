package tracer

// applyPriority applies OpenTracing's sampling.priority start tag (value v)
// to the sampler's decision d. A priority that turns sampling on records
// the trace with probability 1: the rule that set it (an edge's critical
// operation, say) samples such traces for certain, and a probability of 0
// would give the trace an infinite weight. One that turns sampling off
// leaves nothing to record.
func applyPriority(d SamplingDecision, v any) SamplingDecision {
	s := priorityWantsSampling(v, d.Sampled)
	switch {
	case s == d.Sampled:
		return d
	case s:
		return SamplingDecision{Sampled: true, Probability: 1}
	}
	return SamplingDecision{Probability: d.Probability}
}
