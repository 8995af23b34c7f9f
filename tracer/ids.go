package tracer

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/flowtrace/flowtrace/propagation"
)

// The runtime's ChaCha8 generator behind math/rand/v2's top-level functions is
// per-thread, safe for concurrent use and never locks: ids cost a few ns.

func newTraceID() propagation.TraceID {
	var id propagation.TraceID
	for !id.IsValid() {
		putUint64(id[:8], rand.Uint64())
		putUint64(id[8:], rand.Uint64())
	}
	return id
}

func newSpanID() propagation.SpanID {
	var id propagation.SpanID
	for !id.IsValid() {
		putUint64(id[:], rand.Uint64())
	}
	return id
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	b[0] = byte(v >> 56)
	b[1] = byte(v >> 48)
	b[2] = byte(v >> 40)
	b[3] = byte(v >> 32)
	b[4] = byte(v >> 24)
	b[5] = byte(v >> 16)
	b[6] = byte(v >> 8)
	b[7] = byte(v)
}

func getUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// idSource draws the ids of the roots startLean starts, a tracer's
// fast generator: a Weyl sequence (the state advanced by an odd
// increment, atomically, so that concurrent roots never share a state)
// through SplitMix64's finaliser, a bijection. A tracer's states are
// distinct for 2^64 roots, and so are its trace ids (their high half
// alone is); the random seed, increment and key of each tracer (from the
// runtime's ChaCha8) keep different tracers' and processes' sequences
// apart, and the key keeps a trace id from being zero. The output is
// statistically random (SplitMix64 passes BigCrush), as the W3C random
// flag and consistent probability sampling (the low 56 bits) ask. Like
// OpenTelemetry Go's default generator (math/rand), an observer who has
// seen ids can predict others: trace ids identify, they are no secret.
// It costs an atomic add and three mixes, against three ChaCha8 draws.
type idSource struct {
	state atomic.Uint64
	gamma uint64 // odd
	key   uint64 // non-zero
}

// init seeds g.
func (g *idSource) init() {
	g.state.Store(rand.Uint64())
	g.gamma = rand.Uint64() | 1
	g.key = rand.Uint64() | 1
}

// root returns a new trace id and the span id of its root span.
func (g *idSource) root() (propagation.TraceID, propagation.SpanID) {
	s := g.state.Add(2 * g.gamma)
	var tid propagation.TraceID
	putUint64(tid[:8], mix64(s))
	putUint64(tid[8:], mix64(s^g.key))
	var sid propagation.SpanID
	putUint64(sid[:], mix64(s+g.gamma))
	if !sid.IsValid() {
		sid = newSpanID() // once in 2^64
	}
	return tid, sid
}

// mix64 is SplitMix64's finaliser: a bijection of uint64 with mix64(0)
// = 0, each output bit depending on every input bit.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
