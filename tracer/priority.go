package tracer

// applyPriority applies OpenTracing's sampling.priority start tag (value v)
// to the sampler's decision d. A priority that asks for sampling forces the
// span in, and the span records probability 1 even when the sampler had
// accepted it too: the rule that set the priority (an edge's critical
// operation, say) keeps every such trace, so each stands for itself alone,
// whereas the sampler's probability would weight it as 1/p traces. A forced
// decision was not made by comparing the trace's randomness with a
// threshold, so it carries none and the tracer erases th. A priority that
// turns sampling off leaves nothing to record. A value of another type
// leaves d as it is.
func applyPriority(d SamplingDecision, v any) SamplingDecision {
	switch {
	case !isPriority(v):
		return d
	case priorityWantsSampling(v, d.Sampled):
		return SamplingDecision{Sampled: true, Probability: 1}
	}
	return SamplingDecision{Probability: d.Probability}
}

// isPriority reports whether v is a sampling.priority value of a type
// priorityWantsSampling understands.
func isPriority(v any) bool {
	switch v.(type) {
	case int, int32, int64, uint16, uint32, uint64:
		return true
	}
	return false
}
