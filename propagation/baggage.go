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
// earlier one with the same key (in the earlier one's position). It copies
// members and runs in linear time.
func NewBaggage(members ...Member) Baggage {
	if len(members) == 0 {
		return Baggage{}
	}
	return newBaggageOwned(append([]Member(nil), members...))
}

// BaggageRoom returns empty baggage whose storage is buf: the members a
// W3CBaggage Extract parses into it go into buf while they fit, instead of
// a new slice, so that a tracer's Extract can allocate them with the
// context that holds them. The caller gives buf up.
func BaggageRoom(buf []Member) Baggage { return Baggage{members: buf[:0]} }

// newBaggageOwned returns baggage that takes ownership of ms (no copy):
// duplicate keys are merged in place as in NewBaggage. The caller must not
// use ms afterwards.
func newBaggageOwned(ms []Member) Baggage {
	return Baggage{members: dedupeMembers(ms)}
}

// smallMembers is the count up to which key lookups scan a slice instead of
// building a map: beyond it a scan would make merging quadratic.
const smallMembers = 8

// dedupeMembers removes duplicate keys from ms in place: a later member
// replaces an earlier one, keeping the earlier position. Linear time.
func dedupeMembers(ms []Member) []Member {
	if len(ms) < 2 {
		return ms
	}
	out := ms[:0]
	if len(ms) <= smallMembers {
	next:
		for _, m := range ms {
			for i := range out {
				if out[i].Key == m.Key {
					out[i] = m
					continue next
				}
			}
			out = append(out, m)
		}
		return out
	}
	idx := make(map[string]int, len(ms))
	for _, m := range ms {
		if i, ok := idx[m.Key]; ok {
			out[i] = m
			continue
		}
		idx[m.Key] = len(out)
		out = append(out, m)
	}
	return out
}

// mergeMembers returns first followed by the members of second whose keys
// are not in first, at most limit members in all. It may reuse first's
// backing array. Linear time.
func mergeMembers(first, second []Member, limit int) []Member {
	if len(second) == 0 {
		return first
	}
	var idx map[string]struct{}
	if len(first) > smallMembers {
		idx = make(map[string]struct{}, len(first))
		for _, m := range first {
			idx[m.Key] = struct{}{}
		}
	}
	out := first
	n := len(first)
	for _, m := range second {
		if len(out) >= limit {
			break
		}
		if idx != nil {
			if _, ok := idx[m.Key]; ok {
				continue
			}
		} else if hasKey(out[:n], m.Key) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func hasKey(ms []Member, key string) bool {
	for i := range ms {
		if ms[i].Key == key {
			return true
		}
	}
	return false
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
func (b Baggage) With(m Member) Baggage { return b.WithIn(m, nil) }

// WithIn is With building the copy in buf's storage when it has room for
// b's members and m, so that a caller can allocate it along with what
// holds the baggage. The caller gives buf up.
func (b Baggage) WithIn(m Member, buf []Member) Baggage {
	out := buf[:0]
	if cap(out) < len(b.members)+1 {
		out = make([]Member, 0, len(b.members)+1)
	}
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
	if len(b.members) == 1 {
		return Baggage{}
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
