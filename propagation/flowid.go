package propagation

import "github.com/flowtrace/flowtrace/propagation/internal/flowidcore"

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
// [Composite] runs FlowID's Extract after the other formats so that the
// header wins whatever the order of names.
//
// Inject writes the baggage flow_id when it is present and valid.
type FlowID struct{}

var _ Propagator = FlowID{}

// Fields returns X-Flow-ID.
func (FlowID) Fields() []string { return []string{flowIDHeader} }

// Inject writes X-Flow-ID from the flow_id baggage member.
func (FlowID) Inject(s State, c Carrier) {
	if v, ok := s.Baggage.Get(flowidcore.BaggageKey); ok && flowidcore.Valid(v) {
		c.Set(flowIDHeader, v)
	}
}

// Extract moves a valid X-Flow-ID into the flow_id baggage member.
func (FlowID) Extract(c Carrier, s State) State {
	var v string
	present := false
	if mv, ok := c.(MultiValueCarrier); ok {
		lines := mv.Values(flowIDHeader)
		switch len(lines) {
		case 0:
		case 1:
			v, present = lines[0], true
		default:
			flowidcore.AddInvalid()
			return dropInvalidFlowID(s)
		}
	} else {
		v = c.Get(flowIDHeader)
		present = v != ""
	}
	if !present {
		return dropInvalidFlowID(s)
	}
	if !flowidcore.Valid(v) {
		flowidcore.AddInvalid()
		return dropInvalidFlowID(s)
	}
	if old, ok := s.Baggage.Get(flowidcore.BaggageKey); ok {
		if old == v {
			return s
		}
		flowidcore.AddMismatch()
	}
	s.Baggage = s.Baggage.With(Member{Key: flowidcore.BaggageKey, Value: v})
	return s
}

// dropInvalidFlowID removes an invalid flow_id baggage member.
func dropInvalidFlowID(s State) State {
	if old, ok := s.Baggage.Get(flowidcore.BaggageKey); ok && !flowidcore.Valid(old) {
		flowidcore.AddInvalid()
		s.Baggage = s.Baggage.Without(flowidcore.BaggageKey)
	}
	return s
}
