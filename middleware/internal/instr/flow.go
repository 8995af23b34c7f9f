package instr

import "github.com/flowtrace/flowtrace/propagation/flowid"

// Resolution is the outcome of the inbound flow-id precedence.
type Resolution struct {
	// ID is the request's flow id, always valid.
	ID string
	// Incoming is a valid flow id a public endpoint did not trust (the
	// tag flow_id.incoming), or "".
	Incoming string
	// Invalid is an invalid incoming flow id, sanitised (the tag
	// flow_id.invalid), or "".
	Invalid string
}

// Incoming applies the inbound precedence of package middleware's doc to the raw
// values of the flow-id key (nil: absent) and the flow_id baggage item
// that came with the trace context.
func Incoming(header []string, baggage string, public bool) Resolution {
	var r Resolution
	valid := len(header) == 1 && flowid.Valid(header[0])
	switch {
	case valid && public:
		r.Incoming = header[0]
	case valid:
		r.ID = header[0]
		return r
	case len(header) > 0:
		r.Invalid = flowid.Sanitize(header[0])
	}
	if !public && flowid.Valid(baggage) {
		r.ID = baggage
	} else {
		r.ID = flowid.New()
	}
	return r
}

// Outgoing applies the outbound precedence of package middleware's doc: the flow id
// of the context, else the span's baggage item, else a valid one already on
// the outgoing carrier (its raw values), else a new one.
func Outgoing(fromContext, baggage string, carried []string) string {
	switch {
	case flowid.Valid(fromContext):
		return fromContext
	case flowid.Valid(baggage):
		return baggage
	case len(carried) == 1 && flowid.Valid(carried[0]):
		return carried[0]
	}
	return flowid.New()
}
