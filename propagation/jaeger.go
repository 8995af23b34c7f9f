package propagation

import (
	"net/url"
	"strings"
)

// Jaeger is the Jaeger client format, registered as "jaeger":
// uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags} plus one
// uberctx-{key} header per baggage member.
//
// Extract accepts hex ids of either case that may be shorter than 32 (trace)
// or 16 (span) digits — they are left-padded — and a URL-encoded separator
// (%3A). Flags are hex: bit 1 is sampled, bit 2 debug
// ([SpanContext.Debug], which implies sampled; the tracer forces sampling);
// other bits are not kept.
// uberctx- members are URL-decoded and only fill keys not already in
// s.Baggage (W3C baggage wins); at most 64 members and 8192 bytes are read.
//
// Inject writes a 32-digit trace id, a parent of 0 and flags 3 (debug), 1
// or 0 (also for a deferred context: Jaeger has no deferred state), and
// uberctx-{key} for each member whose key is a token, URL-encoded, within
// the same limits.
type Jaeger struct{}

var _ Propagator = Jaeger{}

// Fields returns uber-trace-id. The uberctx- headers are open-ended.
func (Jaeger) Fields() []string { return []string{jaegerHeader} }

// Inject writes uber-trace-id and uberctx- headers.
func (Jaeger) Inject(s State, c Carrier) {
	if sc := s.SpanContext; sc.IsValid() {
		var buf [32 + 1 + 16 + 4]byte
		b := appendHex(buf[:0], sc.TraceID[:])
		b = append(b, ':')
		b = appendHex(b, sc.SpanID[:])
		switch {
		case sc.Debug:
			b = append(b, ":0:3"...)
		case sc.IsSampled() && !sc.Deferred:
			b = append(b, ":0:1"...)
		default:
			b = append(b, ":0:0"...)
		}
		c.Set(jaegerHeader, string(b))
	}
	n, size := 0, 0
	s.Baggage.Each(func(m Member) bool {
		if n == MaxBaggageMembers {
			return false
		}
		if !validToken(m.Key) {
			return true
		}
		v := url.QueryEscape(m.Value)
		if size+len(m.Key)+len(v) > MaxBaggageBytes {
			return true
		}
		size += len(m.Key) + len(v)
		n++
		c.Set(jaegerBaggagePrefix+m.Key, v)
		return true
	})
}

// Extract reads uber-trace-id (unless s has a valid context) and uberctx-
// members.
func (Jaeger) Extract(c Carrier, s State) State {
	if !s.SpanContext.IsValid() {
		if sc, ok := ParseUberTraceID(c.Get(jaegerHeader)); ok {
			s.SpanContext = sc
		}
	}
	return extractUberctx(c, s)
}

// ParseUberTraceID parses an uber-trace-id value.
func ParseUberTraceID(v string) (SpanContext, bool) {
	var sc SpanContext
	v = trimOWS(v)
	if v == "" || len(v) > 32+16+16+2+3*3 {
		return sc, false
	}
	if strings.IndexByte(v, '%') >= 0 {
		v = strings.ReplaceAll(strings.ReplaceAll(v, "%3A", ":"), "%3a", ":")
		if strings.IndexByte(v, '%') >= 0 {
			return sc, false
		}
	}
	tid, rest, ok1 := strings.Cut(v, ":")
	sid, rest, ok2 := strings.Cut(rest, ":")
	pid, flags, ok3 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || !ok3 {
		return sc, false
	}
	var parent SpanID
	var f [1]byte
	if !decodeHexPadded(sc.TraceID[:], tid, &hexVal) ||
		!decodeHexPadded(sc.SpanID[:], sid, &hexVal) ||
		!decodeHexPadded(parent[:], pid, &hexVal) ||
		!decodeHexPadded(f[:], flags, &hexVal) ||
		!sc.IsValid() {
		return SpanContext{}, false
	}
	if f[0]&0x01 != 0 {
		sc.Flags = FlagSampled
	}
	if f[0]&0x02 != 0 { // debug implies sampled
		sc.Flags, sc.Debug = FlagSampled, true
	}
	return sc, true
}

// extractUberctx fills baggage keys not yet in s from uberctx- headers.
func extractUberctx(c Carrier, s State) State {
	var ms []Member
	size := 0
	for _, k := range c.Keys() {
		if len(k) <= len(jaegerBaggagePrefix) || !strings.EqualFold(k[:len(jaegerBaggagePrefix)], jaegerBaggagePrefix) {
			continue
		}
		if len(ms) == MaxBaggageMembers {
			break
		}
		key, _ := lowerASCII(k[len(jaegerBaggagePrefix):])
		if !validToken(key) {
			continue
		}
		raw := c.Get(k)
		if size+len(key)+len(raw) > MaxBaggageBytes {
			continue
		}
		v, err := url.QueryUnescape(raw)
		if err != nil {
			continue
		}
		size += len(key) + len(raw)
		ms = append(ms, Member{Key: key, Value: strings.ToValidUTF8(v, "\uFFFD")})
	}
	if len(ms) == 0 {
		return s
	}
	ms = dedupeMembers(ms)
	existing := s.Baggage.members
	s.Baggage = Baggage{members: mergeMembers(existing[:len(existing):len(existing)], ms, MaxBaggageMembers)}
	return s
}
