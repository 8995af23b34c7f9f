package propagation

// B3 is the Zipkin B3 single-header format,
// b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]], registered as
// "b3". Extract falls back to the multi-header form when there is no b3
// header. A sampling-only header (b3: 0, 1 or d) carries no ids and is
// ignored. Ids are lower-case hex; a 64-bit trace id is left-padded with
// zeros.
//
// The sampling state keeps its three meanings and debug: no state is a
// deferred decision ([SpanContext.Deferred]: the receiving tracer's sampler
// decides), 1 accept, 0 deny, d debug ([SpanContext.Debug], which implies
// accept; the tracer forces sampling). Inject writes the single header
// with the state of the context it is given: none for a deferred context
// passed through, d for debug, else 1 or 0; a span started from a deferred
// context has made its decision and sends it.
type B3 struct{}

// B3Multi is the Zipkin B3 multi-header format (X-B3-TraceId, X-B3-SpanId,
// X-B3-ParentSpanId, X-B3-Sampled 1/0/true/false, absent = deferred,
// X-B3-Flags 1 = debug, which implies accept), registered as "b3multi".
// Extract falls back to the single header when there is no X-B3-TraceId.
// Inject writes X-B3-TraceId, X-B3-SpanId and the state as [B3] does:
// X-B3-Sampled 1 or 0, X-B3-Flags: 1 alone for debug (B3 asks not to send
// X-B3-Sampled with it), neither for a deferred context.
type B3Multi struct{}

var (
	_ Propagator = B3{}
	_ Propagator = B3Multi{}
)

// Fields returns b3.
func (B3) Fields() []string { return []string{b3SingleHeader} }

// Inject writes the b3 header.
func (B3) Inject(s State, c Carrier) {
	sc := s.SpanContext
	if !sc.IsValid() {
		return
	}
	var buf [32 + 1 + 16 + 2]byte
	b := appendHex(buf[:0], sc.TraceID[:])
	b = append(b, '-')
	b = appendHex(b, sc.SpanID[:])
	switch {
	case sc.Debug:
		b = append(b, '-', 'd')
	case sc.Deferred:
	case sc.IsSampled():
		b = append(b, '-', '1')
	default:
		b = append(b, '-', '0')
	}
	c.Set(b3SingleHeader, string(b))
}

// Extract reads b3, or else the multi headers.
func (B3) Extract(c Carrier, s State) State {
	if s.SpanContext.IsValid() {
		return s
	}
	if v := c.Get(b3SingleHeader); v != "" {
		if sc, ok := parseB3Single(v); ok {
			s.SpanContext = sc
		}
		return s
	}
	if sc, ok := parseB3Multi(c); ok {
		s.SpanContext = sc
	}
	return s
}

// Fields returns the X-B3-* headers.
func (B3Multi) Fields() []string {
	return []string{b3TraceIDHeader, b3SpanIDHeader, b3ParentSpanIDHeader, b3SampledHeader, b3FlagsHeader}
}

// Inject writes X-B3-TraceId, X-B3-SpanId and X-B3-Sampled or X-B3-Flags.
func (B3Multi) Inject(s State, c Carrier) {
	sc := s.SpanContext
	if !sc.IsValid() {
		return
	}
	c.Set(b3TraceIDHeader, sc.TraceID.String())
	c.Set(b3SpanIDHeader, sc.SpanID.String())
	switch {
	case sc.Debug:
		c.Set(b3FlagsHeader, "1")
	case sc.Deferred:
	case sc.IsSampled():
		c.Set(b3SampledHeader, "1")
	default:
		c.Set(b3SampledHeader, "0")
	}
}

// Extract reads the multi headers, or else b3.
func (B3Multi) Extract(c Carrier, s State) State {
	if s.SpanContext.IsValid() {
		return s
	}
	if c.Get(b3TraceIDHeader) == "" {
		if v := c.Get(b3SingleHeader); v != "" {
			if sc, ok := parseB3Single(v); ok {
				s.SpanContext = sc
			}
		}
		return s
	}
	if sc, ok := parseB3Multi(c); ok {
		s.SpanContext = sc
	}
	return s
}

// parseB3TraceID decodes a 16- or 32-digit lower-case hex trace id.
func parseB3TraceID(v string) (TraceID, bool) {
	var t TraceID
	switch len(v) {
	case 16:
		if !decodeHex(t[8:], v, &hexValLower) {
			return t, false
		}
	case 32:
		if !decodeHex(t[:], v, &hexValLower) {
			return t, false
		}
	default:
		return t, false
	}
	return t, t.IsValid()
}

func parseB3SpanID(v string) (SpanID, bool) {
	var id SpanID
	if !decodeHex(id[:], v, &hexValLower) {
		return id, false
	}
	return id, id.IsValid()
}

// ParseB3 parses a b3 single-header value.
func ParseB3(v string) (SpanContext, bool) { return parseB3Single(v) }

func parseB3Single(v string) (SpanContext, bool) {
	var sc SpanContext
	v = trimOWS(v)
	var ok bool
	var i int
	switch {
	case len(v) >= 16+1+16 && v[16] == '-':
		i = 16
	case len(v) >= 32+1+16 && v[32] == '-':
		i = 32
	default:
		return sc, false // includes sampling-only values
	}
	if sc.TraceID, ok = parseB3TraceID(v[:i]); !ok {
		return SpanContext{}, false
	}
	if sc.SpanID, ok = parseB3SpanID(v[i+1 : i+17]); !ok {
		return SpanContext{}, false
	}
	rest := v[i+17:]
	if rest == "" {
		sc.Deferred = true
		return sc, true
	}
	if len(rest) < 2 || rest[0] != '-' {
		return SpanContext{}, false
	}
	switch rest[1] {
	case '1':
		sc.Flags = FlagSampled
	case 'd':
		sc.Flags, sc.Debug = FlagSampled, true
	case '0':
	default:
		return SpanContext{}, false
	}
	rest = rest[2:]
	if rest == "" {
		return sc, true
	}
	var parent SpanID
	if len(rest) != 17 || rest[0] != '-' || !decodeHex(parent[:], rest[1:], &hexValLower) {
		return SpanContext{}, false
	}
	return sc, true
}

func parseB3Multi(c Carrier) (SpanContext, bool) {
	var sc SpanContext
	var ok bool
	if sc.TraceID, ok = parseB3TraceID(trimOWS(c.Get(b3TraceIDHeader))); !ok {
		return SpanContext{}, false
	}
	if sc.SpanID, ok = parseB3SpanID(trimOWS(c.Get(b3SpanIDHeader))); !ok {
		return SpanContext{}, false
	}
	if p := trimOWS(c.Get(b3ParentSpanIDHeader)); p != "" {
		var parent SpanID
		if !decodeHex(parent[:], p, &hexValLower) {
			return SpanContext{}, false
		}
	}
	switch trimOWS(c.Get(b3SampledHeader)) {
	case "1", "true":
		sc.Flags = FlagSampled
	case "":
		sc.Deferred = true
	case "0", "false":
	default:
		return SpanContext{}, false
	}
	if trimOWS(c.Get(b3FlagsHeader)) == "1" {
		sc.Flags, sc.Debug, sc.Deferred = FlagSampled, true, false
	}
	return sc, true
}
