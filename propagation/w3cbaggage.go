package propagation

import (
	"strings"
	"unicode/utf8"
)

// W3C Baggage limits (https://www.w3.org/TR/baggage/#limits).
const (
	MaxBaggageMembers = 64
	MaxBaggageBytes   = 8192
)

// W3CBaggage is the W3C Baggage format (the baggage header). It is
// registered as "baggage".
//
// Extract parses in time linear in the input: members are split once into
// a slice, duplicates are merged (the later value wins) with a map only when
// there are more than a few, and parsing stops once 64 members are kept.
// Members that are invalid (key not a token, value with characters outside
// baggage-octet, bad percent-encoding, bad properties) or that would take the
// kept members over 8192 bytes are dropped one by one; the rest survive.
// Values are percent-decoded (invalid UTF-8 becomes U+FFFD); properties are
// kept verbatim (without optional whitespace) in [Member.Properties].
// Extracted members take precedence over members already in s.Baggage.
//
// Inject percent-encodes values, re-emits valid properties, and skips
// members with invalid keys or that would exceed 64 members or 8192 bytes.
type W3CBaggage struct{}

var _ Propagator = W3CBaggage{}

// Fields returns baggage.
func (W3CBaggage) Fields() []string { return []string{baggageHeader} }

// Inject writes the baggage header when there is at least one member to send.
func (W3CBaggage) Inject(s State, c Carrier) {
	if s.Baggage.Len() == 0 {
		return
	}
	if bc, ok := c.(BytesCarrier); ok {
		if v := appendBaggage(bc.Buffer(256), s.Baggage); len(v) > 0 {
			bc.SetBytes(baggageHeader, v)
		}
	} else if v := FormatBaggage(s.Baggage); v != "" {
		c.Set(baggageHeader, v)
	}
}

// Extract merges the baggage header's members into s.Baggage.
func (W3CBaggage) Extract(c Carrier, s State) State {
	var p baggageParser
	if s.Baggage.Len() == 0 {
		p.members = s.Baggage.members // its room, if any (BaggageRoom)
	}
	if mv, ok := c.(MultiValueCarrier); ok {
		for _, line := range mv.Values(baggageHeader) {
			if !p.parse(line) {
				break
			}
		}
	} else if v := c.Get(baggageHeader); v != "" {
		p.parse(v)
	}
	if len(p.members) == 0 {
		return s
	}
	ms := dedupeMembers(p.members)
	if s.Baggage.Len() > 0 {
		ms = mergeMembers(ms, s.Baggage.members, MaxBaggageMembers)
	}
	s.Baggage = Baggage{members: ms}
	return s
}

// ParseBaggage parses a W3C baggage header value with the rules of
// [W3CBaggage]. It returns the members kept and how many were dropped.
func ParseBaggage(v string) (Baggage, int) {
	var p baggageParser
	p.parse(v)
	return newBaggageOwned(p.members), p.dropped
}

// baggageParser accumulates members across field lines.
type baggageParser struct {
	members []Member
	bytes   int // size of the kept members as received, with separators
	dropped int
}

// parse adds the members of one field line; it returns false once the
// member limit is reached.
func (p *baggageParser) parse(v string) bool {
	for rest, more := v, true; more; {
		if len(p.members) == MaxBaggageMembers {
			if strings.TrimLeft(rest, " \t,") != "" {
				p.dropped++
			}
			return false
		}
		var raw string
		raw, rest, more, _ = nextMember(rest)
		if raw == "" {
			continue
		}
		size := len(raw)
		if len(p.members) > 0 {
			size++ // the comma
		}
		if p.bytes+size > MaxBaggageBytes {
			p.dropped++
			continue
		}
		m, ok := parseBaggageMember(raw)
		if !ok {
			p.dropped++
			continue
		}
		if n := min(MaxBaggageMembers, strings.Count(v, ",")+1); len(p.members) == 0 && cap(p.members) < n {
			p.members = make([]Member, 0, n)
		}
		p.members = append(p.members, m)
		p.bytes += size
	}
	return true
}

// parseBaggageMember parses key OWS "=" OWS value *( OWS ";" OWS property ).
func parseBaggageMember(raw string) (Member, bool) {
	kv, props, hasProps := strings.Cut(raw, ";")
	k, val, ok := strings.Cut(kv, "=")
	if !ok {
		return Member{}, false
	}
	k, val = trimOWS(k), trimOWS(val)
	if !validToken(k) || !validBaggageValue(val) {
		return Member{}, false
	}
	val, ok = percentDecode(val)
	if !ok {
		return Member{}, false
	}
	m := Member{Key: k, Value: val}
	if hasProps {
		if m.Properties, ok = normalizeProperties(props); !ok {
			return Member{}, false
		}
	}
	return m, true
}

// tokenChars marks RFC 9110 tchar; baggageOctets marks baggage-octet:
// %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
var tokenChars, baggageOctets = func() (tc, bo [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
			tc[c] = true
		case strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
			tc[c] = true
		}
		bo[c] = b == 0x21 || (0x23 <= b && b <= 0x2b) || (0x2d <= b && b <= 0x3a) ||
			(0x3c <= b && b <= 0x5b) || (0x5d <= b && b <= 0x7e)
	}
	return tc, bo
}()

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

func validBaggageValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if !baggageOctets[s[i]] {
			return false
		}
	}
	return true
}

// percentDecode decodes %XX escapes; it fails on a malformed escape and
// replaces invalid UTF-8 with U+FFFD. It allocates only when s has escapes.
func percentDecode(s string) (string, bool) {
	n := strings.IndexByte(s, '%')
	if n < 0 {
		if !utf8.ValidString(s) {
			return strings.ToValidUTF8(s, "\uFFFD"), true
		}
		return s, true
	}
	buf := make([]byte, 0, len(s))
	buf = append(buf, s[:n]...)
	for i := n; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := hexVal[s[i+1]], hexVal[s[i+2]]
		if hi > 15 || lo > 15 {
			return "", false
		}
		buf = append(buf, hi<<4|lo)
		i += 2
	}
	if !utf8.Valid(buf) {
		return strings.ToValidUTF8(string(buf), "\uFFFD"), true
	}
	return string(buf), true
}

// normalizeProperties validates ";"-separated properties (key, or key OWS
// "=" OWS value) and returns them without optional whitespace.
func normalizeProperties(props string) (string, bool) {
	clean := true
	n := 0
	for rest, more := props, true; more; {
		raw := rest
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			raw, rest = rest[:i], rest[i+1:]
		} else {
			more = false
		}
		p := trimOWS(raw)
		if len(p) != len(raw) {
			clean = false
		}
		k, v, hasV := strings.Cut(p, "=")
		if hasV {
			tk, tv := trimOWS(k), trimOWS(v)
			if len(tk) != len(k) || len(tv) != len(v) {
				clean = false
			}
			k, v = tk, tv
		}
		if !validToken(k) || (hasV && !validBaggageValue(v)) {
			return "", false
		}
		n++
	}
	if clean {
		return props, true
	}
	var b strings.Builder
	b.Grow(len(props))
	for _, raw := range strings.Split(props, ";") {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		k, v, hasV := strings.Cut(trimOWS(raw), "=")
		b.WriteString(trimOWS(k))
		if hasV {
			b.WriteByte('=')
			b.WriteString(trimOWS(v))
		}
	}
	return b.String(), true
}

// FormatBaggage returns the W3C baggage header value for b: values
// percent-encoded, valid properties re-emitted, members with invalid keys
// skipped, at most 64 members and 8192 bytes (members that do not fit are
// skipped whole). It returns "" when nothing can be sent.
func FormatBaggage(b Baggage) string {
	// Members are appended straight into one buffer (on the stack for the
	// usual small baggage); a member that would pass the byte limit is cut
	// back off. The result is the only allocation.
	var stack [256]byte
	return string(appendBaggage(stack[:0], b))
}

func appendBaggage(out []byte, b Baggage) []byte {
	n := 0
	for _, m := range b.members {
		if n == MaxBaggageMembers {
			break
		}
		if !validToken(m.Key) {
			continue
		}
		mark := len(out)
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, m.Key...)
		out = append(out, '=')
		out = appendPercentEncoded(out, m.Value)
		if m.Properties != "" {
			if props, ok := normalizeProperties(m.Properties); ok {
				out = append(out, ';')
				out = append(out, props...)
			}
		}
		if len(out) > MaxBaggageBytes {
			out = out[:mark]
			continue
		}
		n++
	}
	return out
}

// appendPercentEncoded appends s with every byte outside baggage-octet, and
// '%', percent-encoded.
func appendPercentEncoded(dst []byte, s string) []byte {
	const upper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if baggageOctets[c] && c != '%' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upper[c>>4], upper[c&0x0f])
	}
	return dst
}
