package propagation

import "encoding/hex"

// TraceID is a W3C trace id: 16 bytes, valid when not all zero.
type TraceID [16]byte

// SpanID is a W3C parent/span id: 8 bytes, valid when not all zero.
type SpanID [8]byte

// IsValid reports whether the id is not all zero, as W3C Trace Context requires.
func (t TraceID) IsValid() bool { return t != TraceID{} }

// String returns the id as 32 lower-case hex digits.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// IsValid reports whether the id is not all zero, as W3C Trace Context requires.
func (s SpanID) IsValid() bool { return s != SpanID{} }

// String returns the id as 16 lower-case hex digits.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// W3C trace-flags bits.
const (
	// FlagSampled is the W3C sampled flag: the caller may have recorded the span.
	FlagSampled byte = 0x01
	// FlagRandom is the W3C Trace Context Level 2 random flag: the right-most
	// 7 bytes of the trace id were generated at random.
	FlagRandom byte = 0x02
)

// SpanContext is the part of a span's identity that crosses process boundaries.
// The zero value is invalid: no trace.
type SpanContext struct {
	TraceID TraceID
	SpanID  SpanID
	// Flags holds the W3C trace-flags byte (FlagSampled, FlagRandom, ...).
	Flags byte
	// TraceState is a validated W3C tracestate header value, or "".
	TraceState string
	// Deferred reports that the caller made no sampling decision (a B3
	// header without a sampling state): the receiver's sampler decides as
	// for a root, and the sampled flag means nothing. Only B3 can say so on
	// the wire; other formats write "not sampled". A span started from the
	// context has a decision, so its own context is never deferred.
	Deferred bool
	// Debug is the caller's debug request (B3 "d" or X-B3-Flags: 1, the
	// Jaeger debug bit): sampling is forced, as with sampling.priority, and
	// the flag travels on to the spans started from the context. It implies
	// FlagSampled. W3C Trace Context has no debug flag and does not carry
	// it.
	Debug bool
}

// IsValid reports whether both ids are valid.
func (sc SpanContext) IsValid() bool { return sc.TraceID.IsValid() && sc.SpanID.IsValid() }

// IsSampled reports whether the sampled flag is set.
func (sc SpanContext) IsSampled() bool { return sc.Flags&FlagSampled != 0 }
