package trace

import "time"

// DefaultMaxSkew bounds the clock-skew correction [Correct] applies: a
// larger shift is more likely a mis-parented span than a clock, so it is
// counted ([Integrity.SkewBeyondMax]) and left alone. Five minutes is far
// beyond what NTP-synchronised hosts drift, and still catches a host whose
// clock was never synchronised by a few seconds or minutes.
const DefaultMaxSkew = 5 * time.Minute

// SkewStats says what [CorrectSkew] did to one trace.
type SkewStats struct {
	// Shifted is the number of spans whose start and end were moved.
	Shifted int
	// BeyondMax is the number of process-boundary children whose
	// correction exceeded the maximum; they (and their process subtree)
	// were left as recorded.
	BeyondMax int
}

// CorrectSkew corrects clock skew between the processes of one trace and
// returns the corrected trace (t itself when nothing moved; shifted spans
// are copies, t is never changed).
//
// Only process boundaries are corrected: a child whose service (or
// service.instance.id, when both spans have one) differs from its
// parent's. Within a process every span keeps its offset from its process
// parent, so the whole process subtree moves as one. Walking from the root
// down, with each parent already corrected:
//
//   - a synchronous child (anything but a consumer under a producer or a
//     consumer) that starts before its parent or ends after it is moved
//     into the parent's interval, centred, which splits the unknown network
//     latency evenly between request and response;
//   - a child longer than its parent (the caller timed out, or the call
//     was asynchronous) and an asynchronous child (a consumer) are only
//     moved when they start before the parent, to start with it.
//
// A shift larger than max (<= 0: [DefaultMaxSkew]) is not applied and is
// counted in BeyondMax. This follows the model of jaeger-query's clock
// skew adjuster, with a working default bound (Jaeger's default of 0
// disables it) and with end times moved together with start times.
func CorrectSkew(t *Trace, max time.Duration) (*Trace, SkewStats) {
	if max <= 0 {
		max = DefaultMaxSkew
	}
	var st SkewStats
	type item struct {
		s      *Span
		parent *Span // corrected parent, nil for a root
		delta  time.Duration
	}
	var fixed map[*Span]*Span // original -> corrected copy
	stack := make([]item, 0, len(t.roots))
	for i := len(t.roots) - 1; i >= 0; i-- {
		stack = append(stack, item{s: t.roots[i]})
	}
	// Every span has one parent, so a walk down from the roots meets each
	// reachable span once; spans on a parent cycle are unreachable and
	// left alone.
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		delta := it.delta
		if it.parent != nil && crossesProcess(it.parent, it.s) {
			delta = skewOf(it.parent, it.s)
			if delta > max || delta < -max {
				st.BeyondMax++
				delta = 0
			}
		}
		cur := it.s
		if delta != 0 {
			c := *it.s
			c.Start, c.End = c.Start.Add(delta), c.End.Add(delta)
			cur = &c
			if fixed == nil {
				fixed = map[*Span]*Span{}
			}
			fixed[it.s] = cur
			st.Shifted++
		}
		kids := t.children[it.s.SpanID]
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, item{s: kids[i], parent: cur, delta: delta})
		}
	}
	if len(fixed) == 0 {
		return t, st
	}
	out := make([]*Span, len(t.Spans))
	for i, s := range t.Spans {
		if c := fixed[s]; c != nil {
			out[i] = c
		} else {
			out[i] = s
		}
	}
	return New(t.ID, out), st
}

// crossesProcess reports whether a and b ran in different processes: other
// services, or other instances of one service when both name theirs.
func crossesProcess(a, b *Span) bool {
	if a.Service != b.Service {
		return true
	}
	ia, _ := a.Resource["service.instance.id"].(string)
	ib, _ := b.Resource["service.instance.id"].(string)
	return ia != "" && ib != "" && ia != ib
}

// skewOf returns how far child must move to sit inside parent (see
// CorrectSkew).
func skewOf(parent, child *Span) time.Duration {
	if child.Kind == KindConsumer || parent.Kind == KindProducer {
		if child.Start.Before(parent.Start) {
			return parent.Start.Sub(child.Start)
		}
		return 0
	}
	pd, cd := parent.End.Sub(parent.Start), child.End.Sub(child.Start)
	if cd > pd {
		if child.Start.Before(parent.Start) {
			return parent.Start.Sub(child.Start)
		}
		return 0
	}
	if !child.Start.Before(parent.Start) && !child.End.After(parent.End) {
		return 0
	}
	return parent.Start.Add((pd - cd) / 2).Sub(child.Start)
}
