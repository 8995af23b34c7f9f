package propagation

// Member is one baggage entry. Properties holds the W3C baggage member
// properties (the text after the first ';'), kept so that they survive a hop.
type Member struct {
	Key        string
	Value      string
	Properties string
}

// Baggage is an immutable, ordered set of members with unique keys. The zero
// value is empty and ready to use. Methods that change it return a copy, so a
// Baggage can be shared between spans and goroutines without locks.
type Baggage struct {
	members []Member
}

// NewBaggage returns baggage holding members; a later member replaces an
// earlier one with the same key.
func NewBaggage(members ...Member) Baggage {
	var b Baggage
	for _, m := range members {
		b = b.With(m)
	}
	return b
}

// Len returns the number of members.
func (b Baggage) Len() int { return len(b.members) }

// Get returns the value for key.
func (b Baggage) Get(key string) (string, bool) {
	for i := range b.members {
		if b.members[i].Key == key {
			return b.members[i].Value, true
		}
	}
	return "", false
}

// Member returns the whole member for key.
func (b Baggage) Member(key string) (Member, bool) {
	for i := range b.members {
		if b.members[i].Key == key {
			return b.members[i], true
		}
	}
	return Member{}, false
}

// With returns a copy of b in which m replaces any member with the same key.
func (b Baggage) With(m Member) Baggage {
	out := make([]Member, 0, len(b.members)+1)
	replaced := false
	for _, old := range b.members {
		if old.Key == m.Key {
			out = append(out, m)
			replaced = true
			continue
		}
		out = append(out, old)
	}
	if !replaced {
		out = append(out, m)
	}
	return Baggage{members: out}
}

// Without returns a copy of b without key.
func (b Baggage) Without(key string) Baggage {
	if _, ok := b.Get(key); !ok {
		return b
	}
	out := make([]Member, 0, len(b.members)-1)
	for _, old := range b.members {
		if old.Key != key {
			out = append(out, old)
		}
	}
	return Baggage{members: out}
}

// Each calls fn for each member in order until fn returns false.
func (b Baggage) Each(fn func(Member) bool) {
	for _, m := range b.members {
		if !fn(m) {
			return
		}
	}
}

// Members returns a copy of the members in order.
func (b Baggage) Members() []Member {
	return append([]Member(nil), b.members...)
}
