package flowid

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/internal/flowidcore"
)

// BaggageKey is the baggage member that carries the flow id.
const BaggageKey = flowidcore.BaggageKey

// Carrier keys of the flow id.
const (
	// Header is the HTTP and Kafka header.
	Header = "X-Flow-ID"
	// MetadataKey is the gRPC metadata key.
	MetadataKey = "x-flow-id"
)

// MaxLen is the longest valid flow id, in bytes.
const MaxLen = flowidcore.MaxLen

// Propagator is the X-Flow-ID format; see [propagation.FlowID].
type Propagator = propagation.FlowID

// Valid reports whether s is 1 to 128 bytes of [A-Za-z0-9._~+/=:-].
func Valid(s string) bool { return flowidcore.Valid(s) }

// New returns a fresh flow id: 16 random bytes, base64url without padding
// (22 characters). The bytes come from the runtime's per-thread ChaCha8
// generator (math/rand/v2), seeded from the operating system: flow ids are
// correlation ids, not secrets, and a crypto/rand draw made New cost twice
// as much on every request that brings no flow id.
//
// Ids are made idsPerChunk at a time, as pieces of one string: one
// allocation per 16 ids instead of one each (an id kept keeps the chunk's
// 352 bytes alive).
func New() string {
	c, _ := chunks.Get().(*idChunk)
	if c == nil {
		c = new(idChunk)
	}
	if len(c.ids) == 0 {
		c.fill()
	}
	id := c.ids[:idLen]
	c.ids = c.ids[idLen:]
	chunks.Put(c)
	return id
}

const idLen, idsPerChunk = 22, 16

// idChunk holds ids not handed out yet; chunks keeps one per P, so that
// no two callers share one.
type idChunk struct{ ids string }

var chunks sync.Pool

func (c *idChunk) fill() {
	var b strings.Builder
	b.Grow(idLen * idsPerChunk)
	var raw [16]byte
	var out [idLen]byte
	for range idsPerChunk {
		binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
		binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
		base64.RawURLEncoding.Encode(out[:], raw[:])
		b.Write(out[:])
	}
	c.ids = b.String()
}

// FromTraceID returns the flow id that equals the trace id: 32 lower-case
// hex digits, so that logs can be searched by either.
func FromTraceID(id propagation.TraceID) string { return id.String() }

// SanitizeLen is the longest string Sanitize returns, in bytes.
const SanitizeLen = 64

// Sanitize returns a form of an untrusted flow id that is safe to record on
// a span or in a log: printable ASCII is kept (backslash doubled), every
// other byte — control characters, ESC of ANSI sequences, CR, LF, DEL,
// non-ASCII and invalid UTF-8 — becomes \xNN, and the result is cut to at
// most 64 bytes, ending in "..." when cut.
func Sanitize(s string) string {
	const hex = "0123456789abcdef"
	const ellipsis = "..."
	var buf [SanitizeLen]byte
	b := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		var enc []byte
		switch {
		case c == '\\':
			enc = []byte{'\\', '\\'}
		case 0x20 <= c && c < 0x7f:
			enc = []byte{c}
		default:
			enc = []byte{'\\', 'x', hex[c>>4], hex[c&0x0f]}
		}
		if len(b)+len(enc) > SanitizeLen-len(ellipsis) && (i+1 < len(s) || len(b)+len(enc) > SanitizeLen) {
			return string(append(b, ellipsis...))
		}
		b = append(b, enc...)
	}
	return string(b)
}

type ctxKey struct{}

// ContextWith returns a copy of ctx that carries the flow id.
func ContextWith(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the flow id of ctx: the one set by [ContextWith], else
// the "flow_id" baggage item of the OpenTracing span in ctx, else "".
func FromContext(ctx context.Context) string {
	if id, ok := ctx.Value(ctxKey{}).(string); ok && id != "" {
		return id
	}
	if sp := opentracing.SpanFromContext(ctx); sp != nil {
		return sp.BaggageItem(BaggageKey)
	}
	return ""
}
