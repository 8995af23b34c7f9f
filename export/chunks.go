package export

import (
	"sync"
	"sync/atomic"

	"github.com/flowtrace/flowtrace/tracer"
)

// The Batcher in front of an OTLPExporter keeps each finished span as its
// encoded bytes. Giving every span a buffer of its own made those bytes a
// sixth of what the traced service allocated, and so of how often the
// garbage collector ran. Spans are encoded instead into large chunks that
// are reused once every span in them has been exported: the queue's bytes
// are then allocated once, not per span.
//
// Spans are encoded into a pooled scratch buffer without a lock, then
// copied into the current chunk under the arena's mutex (held for the
// copy only). Reuse is safe because nothing keeps a span's bytes after
// exportEncoded returns (requestBytes copies them into a fresh request).
// A chunk whose spans are not all settled (a drop at shutdown) is never
// reused: it is left to the garbage collector, so an accounting path that
// forgets a chunk costs an allocation, never another span's bytes.

const (
	// chunkSize is the capacity of a chunk.
	chunkSize = 32 << 10
	// maxChunkedSpan: a larger span gets a buffer of its own, so that it
	// wastes no chunk.
	maxChunkedSpan = chunkSize / 4
	// maxFreeChunks bounds the chunks kept for reuse.
	maxFreeChunks = 8
)

// chunk is a buffer of encoded spans. pending is the number of its spans
// not yet settled minus those the arena has yet to publish: it only goes
// down while the chunk is current (one per settled span), the arena adds
// the chunk's span count when it retires the chunk, and whoever brings it
// to zero recycles it (exactly once: before retirement every change is a
// decrement from zero or below).
type chunk struct {
	buf     []byte
	pending atomic.Int64
}

// chunkArena hands out chunks and takes them back.
type chunkArena struct {
	mu sync.Mutex
	// cur is the chunk spans are copied into, spans the count copied.
	cur   *chunk
	spans int64
	free  []*chunk
	// made counts the chunks allocated (tests check reuse by it).
	made atomic.Int64
}

// nextLocked retires the current chunk and makes a free or new one current.
func (a *chunkArena) nextLocked() {
	if c := a.cur; c != nil && c.pending.Add(a.spans) == 0 {
		a.freeLocked(c)
	}
	a.spans = 0
	if n := len(a.free); n > 0 {
		a.cur = a.free[n-1]
		a.free[n-1] = nil
		a.free = a.free[:n-1]
		a.cur.buf = a.cur.buf[:0]
		return
	}
	a.made.Add(1)
	a.cur = &chunk{buf: make([]byte, 0, chunkSize)}
}

func (a *chunkArena) freeLocked(c *chunk) {
	if len(a.free) < maxFreeChunks {
		a.free = append(a.free, c)
	}
}

// settle records that n spans of c were exported or dropped.
func (a *chunkArena) settle(c *chunk, n int64) {
	if c != nil && c.pending.Add(-n) == 0 {
		a.mu.Lock()
		a.freeLocked(c)
		a.mu.Unlock()
	}
}

// encode returns s's OTLP Span message and the chunk holding it (nil when
// the span has a buffer of its own), which the caller settles once the
// span is exported or dropped.
func (a *chunkArena) encode(s *tracer.SpanData) ([]byte, *chunk) {
	sp := scratchPool.Get().(*[]byte)
	buf := appendSpan((*sp)[:0], s)
	var out []byte
	var c *chunk
	if len(buf) > maxChunkedSpan {
		out = make([]byte, len(buf))
		copy(out, buf)
	} else {
		a.mu.Lock()
		if a.cur == nil || cap(a.cur.buf)-len(a.cur.buf) < len(buf) {
			a.nextLocked()
		}
		c = a.cur
		start := len(c.buf)
		c.buf = append(c.buf, buf...)
		out = c.buf[start:len(c.buf):len(c.buf)]
		a.spans++
		a.mu.Unlock()
	}
	if cap(buf) <= maxPooledScratch {
		*sp = buf
		scratchPool.Put(sp)
	}
	return out, c
}
