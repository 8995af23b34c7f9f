package propagation

import (
	"errors"
	"strings"
)

const (
	maxTraceStateMembers = 32
	// maxTraceStateLen is the length to which Inject truncates tracestate.
	maxTraceStateLen = 512
	// maxTraceStateMemberLen: longer members are dropped first on truncation.
	maxTraceStateMemberLen = 128
	// maxTraceStateInput bounds the input Extract parses: 32 members of the
	// longest key and value take about 16 KiB.
	maxTraceStateInput = 32 << 10
)

// Errors returned by the tracestate helpers.
var (
	ErrTraceStateKey   = errors.New("propagation: invalid tracestate key")
	ErrTraceStateValue = errors.New("propagation: invalid tracestate value")
	ErrTraceState      = errors.New("propagation: invalid tracestate")
)

// extractTraceState reads tracestate from c; "" when absent or invalid.
func extractTraceState(c Carrier) string {
	var v string
	if mv, ok := c.(MultiValueCarrier); ok {
		lines := mv.Values(tracestateHeader)
		switch len(lines) {
		case 0:
			return ""
		case 1:
			v = lines[0]
		default:
			n := len(lines) - 1
			for _, l := range lines {
				n += len(l)
			}
			if n > maxTraceStateInput {
				return ""
			}
			v = strings.Join(lines, ",")
		}
	} else {
		v = c.Get(tracestateHeader)
	}
	if v == "" || len(v) > maxTraceStateInput {
		return ""
	}
	ts, ok := normalizeTraceState(v)
	if !ok {
		return ""
	}
	return ts
}

// ParseTraceState validates a tracestate header value (several field lines
// joined with commas) and returns it normalized: optional whitespace, empty
// members and repeats of a key (the first member with a key is kept, as the
// specification allows a vendor to discard duplicates) removed. It fails on
// an invalid key or value or more than 32 distinct members: such a list
// cannot be propagated in part without guessing which members were meant.
func ParseTraceState(v string) (string, error) {
	if len(v) > maxTraceStateInput {
		return "", ErrTraceState
	}
	ts, ok := normalizeTraceState(v)
	if !ok {
		return "", ErrTraceState
	}
	return ts, nil
}

// nextMember splits the first comma-separated member off s. It returns the
// member with OWS trimmed, the rest after the comma, whether there was a
// comma, and whether the member was already trimmed.
func nextMember(s string) (member, rest string, more, trimmed bool) {
	raw := s
	if i := strings.IndexByte(s, ','); i >= 0 {
		raw, rest, more = s[:i], s[i+1:], true
	}
	member = trimOWS(raw)
	return member, rest, more, len(member) == len(raw)
}

// normalizeTraceState validates v and returns it without OWS, empty
// members and repeated keys. It allocates only when v is not normal
// already.
func normalizeTraceState(v string) (string, bool) {
	var keys [maxTraceStateMembers]string
	n := 0
	clean := true
	for rest, more := v, true; more; {
		var m string
		var trimmed bool
		m, rest, more, trimmed = nextMember(rest)
		if m == "" {
			clean = false
			continue
		}
		if !trimmed {
			clean = false
		}
		k, val, ok := strings.Cut(m, "=")
		if !ok || !validTraceStateKey(k) || !validTraceStateValue(val) {
			return "", false
		}
		if seenKey(keys[:n], k) {
			clean = false
			continue
		}
		if n == maxTraceStateMembers {
			return "", false
		}
		keys[n] = k
		n++
	}
	if clean {
		return v, true
	}
	var b strings.Builder
	b.Grow(len(v))
	n = 0
	for rest, more := v, true; more; {
		var m string
		m, rest, more, _ = nextMember(rest)
		if m == "" {
			continue
		}
		k, _, _ := strings.Cut(m, "=")
		if seenKey(keys[:n], k) {
			continue
		}
		keys[n] = k
		n++
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
	}
	return b.String(), true
}

// seenKey reports whether k is among keys (at most 32 of them).
func seenKey(keys []string, k string) bool {
	for _, seen := range keys {
		if seen == k {
			return true
		}
	}
	return false
}

// tsKeyChar reports keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@".
func tsKeyChar(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '_' || c == '-' || c == '*' || c == '/' || c == '@'
}

// validTraceStateKey checks the Trace Context Level 2 key grammar:
//
//	key     = ( lcalpha / DIGIT ) 0*255( keychar )
//	keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
//
// Level 2 has no tenant@system split: "@" is an ordinary key character, so
// "foo@", "foo@@bar", "t@" followed by 15 "v" and 242 "t" followed by "@v"
// are valid keys. (Level 1's multi-tenant-key rule, a tenant of at most 241
// characters, "@", and a system id of at most 14, is gone.)
func validTraceStateKey(k string) bool {
	if len(k) < 1 || len(k) > 256 {
		return false
	}
	if c := k[0]; !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') {
		return false
	}
	return allTSKeyChars(k[1:])
}

func allTSKeyChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !tsKeyChar(s[i]) {
			return false
		}
	}
	return true
}

// validTraceStateValue checks value = 0*255(chr) nblk-chr, where
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E and chr = %x20 / nblk-chr.
func validTraceStateValue(v string) bool {
	if len(v) < 1 || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}

// TruncateTraceState shortens a valid, normalized tracestate to at most 512
// characters as the specification recommends: members longer than 128
// characters are removed first (from the end), then members from the end.
func TruncateTraceState(ts string) string {
	if len(ts) <= maxTraceStateLen {
		return ts
	}
	var buf [maxTraceStateMembers]string
	members := buf[:0]
	for rest, more := ts, true; more && len(members) < maxTraceStateMembers; {
		var m string
		m, rest, more, _ = nextMember(rest)
		if m != "" {
			members = append(members, m)
		}
	}
	size := func() int {
		n := len(members) - 1
		for _, m := range members {
			n += len(m)
		}
		return n
	}
	for i := len(members) - 1; i >= 0 && size() > maxTraceStateLen; i-- {
		if len(members[i]) > maxTraceStateMemberLen {
			members = append(members[:i], members[i+1:]...)
		}
	}
	for len(members) > 0 && size() > maxTraceStateLen {
		members = members[:len(members)-1]
	}
	return strings.Join(members, ",")
}

// TraceStateGet returns the value of key in a valid tracestate.
func TraceStateGet(ts, key string) (string, bool) {
	for rest, more := ts, true; more; {
		var m string
		m, rest, more, _ = nextMember(rest)
		if k, v, ok := strings.Cut(m, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// TraceStateWith returns ts with key=value as its first member, as a vendor
// does when it changes its entry: an older entry for key is removed, and the
// last member is dropped when the list would exceed 32 members. ts must be a
// valid tracestate (or "").
func TraceStateWith(ts, key, value string) (string, error) {
	if !validTraceStateKey(key) {
		return "", ErrTraceStateKey
	}
	if !validTraceStateValue(value) {
		return "", ErrTraceStateValue
	}
	norm, err := ParseTraceState(ts)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(key) + 1 + len(value) + 1 + len(norm))
	b.WriteString(key)
	b.WriteByte('=')
	b.WriteString(value)
	n := 1
	for rest, more := norm, norm != ""; more && n < maxTraceStateMembers; {
		var m string
		m, rest, more, _ = nextMember(rest)
		if k, _, _ := strings.Cut(m, "="); k == key {
			continue
		}
		b.WriteByte(',')
		b.WriteString(m)
		n++
	}
	return b.String(), nil
}

// TraceStateWithout returns ts without key. ts must be a valid tracestate.
func TraceStateWithout(ts, key string) (string, error) {
	norm, err := ParseTraceState(ts)
	if err != nil {
		return "", err
	}
	if _, ok := TraceStateGet(norm, key); !ok {
		return norm, nil
	}
	var b strings.Builder
	for rest, more := norm, true; more; {
		var m string
		m, rest, more, _ = nextMember(rest)
		if k, _, _ := strings.Cut(m, "="); k == key {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
	}
	return b.String(), nil
}
