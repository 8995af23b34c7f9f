package propagation

import "strings"

// Composite returns a propagator that runs ps in order. Nested composites
// are flattened and nil or [None] entries skipped. Fields is the union of
// the formats' fields.
//
// Extract runs the formats in order, except that [FlowID] runs last so that
// the X-Flow-ID header wins for flow_id. Together with the formats' own
// rules this gives the baggage precedence documented in the package doc.
func Composite(ps ...Propagator) Propagator {
	c := &composite{}
	var flow []Propagator
	var add func(p Propagator)
	add = func(p Propagator) {
		switch v := p.(type) {
		case nil, None, *None:
		case *composite:
			for _, q := range v.inject {
				add(q)
			}
		case FlowID, *FlowID:
			c.inject = append(c.inject, p)
			flow = append(flow, p)
		default:
			c.inject = append(c.inject, p)
			c.extract = append(c.extract, p)
		}
	}
	for _, p := range ps {
		add(p)
	}
	c.extract = append(c.extract, flow...)
	seen := make(map[string]bool)
	for _, p := range c.inject {
		for _, f := range p.Fields() {
			lf := strings.ToLower(f)
			if !seen[lf] {
				seen[lf] = true
				c.fields = append(c.fields, f)
			}
		}
	}
	return c
}

type composite struct {
	inject  []Propagator // in the order given
	extract []Propagator // FlowID moved last
	fields  []string
}

func (c *composite) Inject(s State, carrier Carrier) {
	for _, p := range c.inject {
		p.Inject(s, carrier)
	}
}

func (c *composite) Extract(carrier Carrier, s State) State {
	for _, p := range c.extract {
		s = p.Extract(carrier, s)
	}
	return s
}

func (c *composite) Fields() []string { return append([]string(nil), c.fields...) }

// None is the propagator that does nothing; it is registered as "none".
type None struct{}

var _ Propagator = None{}

// Inject does nothing.
func (None) Inject(State, Carrier) {}

// Extract returns s.
func (None) Extract(_ Carrier, s State) State { return s }

// Fields returns nil.
func (None) Fields() []string { return nil }
