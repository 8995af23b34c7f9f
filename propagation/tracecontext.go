package propagation

const (
	traceparentHeader = "traceparent"
	tracestateHeader  = "tracestate"

	traceparentLen = 55 // "00-" + 32 + "-" + 16 + "-" + 2
)

// TraceContext is the W3C Trace Context Level 2 format: the traceparent and
// tracestate headers (https://www.w3.org/TR/trace-context-2/). It is
// registered as "tracecontext".
//
// Extract follows the specification's parsing rules:
//
//   - traceparent must arrive in exactly one field line; two or more lines
//     (or none) mean "no parent": a new trace starts.
//   - Leading and trailing optional whitespace (SP, HTAB) is ignored; any
//     other deviation invalidates the header.
//   - Version 00 is exactly 55 characters. A higher version is parsed by the
//     version 00 rules and may carry further fields after a '-'. Version ff
//     is invalid.
//   - Hex digits must be lower case; all-zero trace or parent ids are
//     invalid.
//   - The trace-flags byte is kept as received (sampled 0x01, random 0x02
//     and bits not defined yet).
//   - tracestate is read only when traceparent is valid. Several field lines
//     are joined with commas. Keys follow the Level 2 grammar, in which "@"
//     is an ordinary key character (see [ParseTraceState]). A repeated key
//     keeps its first member and the repeat is dropped; the rest of the
//     list is kept. A member with an invalid key or value, or more than 32
//     distinct members, drops the whole tracestate (the traceparent is
//     kept), as the W3C test suite expects: a list that cannot be parsed is
//     not propagated in part. Empty members and optional whitespace are
//     removed. Input over 32 KiB is dropped without parsing.
//
// Inject writes version 00 with lower-case hex, and tracestate truncated to
// 512 characters the way the specification recommends (see
// [TruncateTraceState]). A context that is not valid is not injected.
//
// Extract leaves s unchanged when s.SpanContext is already valid, so that
// the first trace format in a composite wins.
type TraceContext struct{}

var _ Propagator = TraceContext{}

// Fields returns traceparent and tracestate.
func (TraceContext) Fields() []string { return []string{traceparentHeader, tracestateHeader} }

// Inject writes traceparent and, when not empty, tracestate.
func (TraceContext) Inject(s State, c Carrier) {
	sc := s.SpanContext
	if !sc.IsValid() {
		return
	}
	if bc, ok := c.(BytesCarrier); ok {
		bc.SetBytes(traceparentHeader, appendTraceparent(bc.Buffer(traceparentLen), sc))
	} else {
		c.Set(traceparentHeader, FormatTraceparent(sc))
	}
	if sc.TraceState == "" {
		return
	}
	ts, ok := normalizeTraceState(sc.TraceState)
	if !ok {
		return
	}
	if ts = TruncateTraceState(ts); ts != "" {
		c.Set(tracestateHeader, ts)
	}
}

// Extract reads traceparent and tracestate into s.SpanContext, unless it is
// valid already.
func (TraceContext) Extract(c Carrier, s State) State {
	if s.SpanContext.IsValid() {
		return s
	}
	var tp string
	if mv, ok := c.(MultiValueCarrier); ok {
		lines := mv.Values(traceparentHeader)
		if len(lines) != 1 {
			return s
		}
		tp = lines[0]
	} else {
		tp = c.Get(traceparentHeader)
	}
	sc, ok := ParseTraceparent(tp)
	if !ok {
		return s
	}
	sc.TraceState = extractTraceState(c)
	s.SpanContext = sc
	return s
}

// ParseTraceparent parses a W3C traceparent header value with the rules
// described at [TraceContext]. The returned context has no tracestate.
func ParseTraceparent(v string) (SpanContext, bool) {
	var sc SpanContext
	v = trimOWS(v)
	if len(v) < traceparentLen {
		return sc, false
	}
	var ver [1]byte
	if !decodeHex(ver[:], v[0:2], &hexValLower) || ver[0] == 0xff {
		return sc, false
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return sc, false
	}
	if len(v) > traceparentLen && (ver[0] == 0 || v[traceparentLen] != '-') {
		return sc, false
	}
	var flags [1]byte
	if !decodeHex(sc.TraceID[:], v[3:35], &hexValLower) ||
		!decodeHex(sc.SpanID[:], v[36:52], &hexValLower) ||
		!decodeHex(flags[:], v[53:55], &hexValLower) {
		return SpanContext{}, false
	}
	if !sc.IsValid() {
		return SpanContext{}, false
	}
	sc.Flags = flags[0]
	return sc, true
}

// FormatTraceparent returns the version 00 traceparent value of sc, in
// lower-case hex. It does not check that sc is valid.
func FormatTraceparent(sc SpanContext) string {
	var buf [traceparentLen]byte
	return string(appendTraceparent(buf[:0], sc))
}

func appendTraceparent(b []byte, sc SpanContext) []byte {
	b = append(b, '0', '0', '-')
	b = appendHex(b, sc.TraceID[:])
	b = append(b, '-')
	b = appendHex(b, sc.SpanID[:])
	return append(b, '-', hexDigits[sc.Flags>>4], hexDigits[sc.Flags&0x0f])
}

// trimOWS removes leading and trailing SP and HTAB.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
