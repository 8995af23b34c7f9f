package propagation

import (
	"sync/atomic"

	"github.com/flowtrace/flowtrace/propagation/internal/flowidcore"
)

// FlowID is the X-Flow-ID format: it maps the "flow_id" baggage member to
// the X-Flow-ID header, which it alone owns. It is registered as "flowid";
// package propagation/flowid aliases it as flowid.Propagator and holds the
// helpers (validation, generation, counters, context).
//
// Extract reads X-Flow-ID. A valid value (1-128 bytes of
// [A-Za-z0-9._~+/=:-]) becomes the flow_id baggage member, replacing one that
// arrived in other baggage (a different value is counted as a mismatch). An
// invalid value — empty, too long, bad characters, or several field lines —
// is ignored and counted, so that the caller can replace it; an invalid
// flow_id that arrived as baggage is removed and counted the same way.
// The counts are per propagator: [NewFlowID] makes one that counts (as
// [Select] does for "flowid", so each flowtrace.Start has its own, in
// Tracing.Stats), while the zero FlowID counts nothing.
// [Composite] runs FlowID's Extract after the other formats so that the
// header wins whatever the order of names.
//
// Inject writes the baggage flow_id when it is present and valid.
type FlowID struct{ counts *flowIDCounts }

var _ Propagator = FlowID{}

type flowIDCounts struct{ invalid, mismatches atomic.Uint64 }

// FlowIDStats counts what a FlowID propagator's Extract saw.
type FlowIDStats struct {
	// Invalid counts incoming flow ids (header or baggage) that were
	// invalid and ignored.
	Invalid uint64
	// Mismatches counts X-Flow-ID headers that differed from the flow_id
	// that arrived in baggage (the header won).
	Mismatches uint64
}

// NewFlowID returns a FlowID propagator with counters of its own.
func NewFlowID() FlowID { return FlowID{counts: &flowIDCounts{}} }

// Stats returns the propagator's counts (zero for the zero FlowID).
func (f FlowID) Stats() FlowIDStats {
	if f.counts == nil {
		return FlowIDStats{}
	}
	return FlowIDStats{Invalid: f.counts.invalid.Load(), Mismatches: f.counts.mismatches.Load()}
}

func (f FlowID) addInvalid() {
	if f.counts != nil {
		f.counts.invalid.Add(1)
	}
}

// Fields returns X-Flow-ID.
func (FlowID) Fields() []string { return []string{flowIDHeader} }

// Inject writes X-Flow-ID from the flow_id baggage member.
func (FlowID) Inject(s State, c Carrier) {
	if v, ok := s.Baggage.Get(flowidcore.BaggageKey); ok && flowidcore.Valid(v) {
		c.Set(flowIDHeader, v)
	}
}

// Extract moves a valid X-Flow-ID into the flow_id baggage member.
func (f FlowID) Extract(c Carrier, s State) State {
	var v string
	present := false
	if mv, ok := c.(MultiValueCarrier); ok {
		lines := mv.Values(flowIDHeader)
		switch len(lines) {
		case 0:
		case 1:
			v, present = lines[0], true
		default:
			f.addInvalid()
			return f.dropInvalid(s)
		}
	} else {
		v = c.Get(flowIDHeader)
		present = v != ""
	}
	if !present {
		return f.dropInvalid(s)
	}
	if !flowidcore.Valid(v) {
		f.addInvalid()
		return f.dropInvalid(s)
	}
	if old, ok := s.Baggage.Get(flowidcore.BaggageKey); ok {
		if old == v {
			return s
		}
		if f.counts != nil {
			f.counts.mismatches.Add(1)
		}
	}
	s.Baggage = s.Baggage.With(Member{Key: flowidcore.BaggageKey, Value: v})
	return s
}

// dropInvalid removes an invalid flow_id baggage member.
func (f FlowID) dropInvalid(s State) State {
	if old, ok := s.Baggage.Get(flowidcore.BaggageKey); ok && !flowidcore.Valid(old) {
		f.addInvalid()
		s.Baggage = s.Baggage.Without(flowidcore.BaggageKey)
	}
	return s
}
