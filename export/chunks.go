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
// A queued span names its bytes by chunk id, offset and length, and its
// scope by an index into its chunk's scopes (spanRef): the queue's buffer
// and the worker's batch then hold no pointers, so the garbage collector
// neither scans them in every cycle nor runs write barriers when a span
// goes through the channel while it marks.
//
// Spans are encoded into a pooled scratch buffer without a lock, then
// copied into the current chunk under the arena's mutex (held for the
// copy only). Reuse is safe because nothing keeps a span's bytes after
// exportEncoded returns (requestBytes copies them into a fresh request).
// A chunk whose spans are not all settled (a drop at shutdown) is never
// reused, so an accounting path that forgets a chunk costs memory (until
// the Batcher is garbage), never another span's bytes.

const (
	// chunkSize is the capacity of a chunk.
	chunkSize = 32 << 10
	// maxChunkedSpan: a larger span gets a chunk of its own (exactly its
	// size, never reused), so that it wastes no shared chunk.
	maxChunkedSpan = chunkSize / 4
	// maxFreeChunks bounds the chunks kept for reuse.
	maxFreeChunks = 8
	// maxChunkScopes bounds the scopes of one chunk: a span of another
	// scope starts a new chunk, so that finding a span's scope stays a
	// short search.
	maxChunkScopes = 16
)

// chunk is a buffer of encoded spans. pending is the number of its spans
// not yet settled minus those the arena has yet to publish: it only goes
// down while the chunk is current (one per settled span), the arena adds
// the chunk's span count when it retires the chunk, and whoever brings it
// to zero recycles it (exactly once: before retirement every change is a
// decrement from zero or below).
type chunk struct {
	// data is the whole buffer; its header never changes, so the worker
	// slices a span's bytes without the arena's lock.
	data []byte
	// used and scopes change under the arena's mutex; a scope, once
	// appended, is not changed before the chunk is reused.
	used   int
	scopes []tracer.Scope
	id     uint32
	// own: the chunk holds one span too large to share one.
	own     bool
	pending atomic.Int64
}

// spanRef is a queued span's bytes and scope. It holds no pointer.
type spanRef struct {
	chunk, scope uint32
	off, n       uint32
}

// chunkArena hands out chunks and takes them back.
type chunkArena struct {
	mu sync.Mutex
	// cur is the chunk spans are copied into, spans the count copied.
	cur   *chunk
	spans int64
	free  []*chunk
	// table holds every chunk that may hold queued spans, by id; ids are
	// reused once their chunk is dropped.
	table   []*chunk
	freeIDs []uint32
	// made counts the chunks allocated (tests check reuse by it).
	made atomic.Int64
}

// registerLocked gives c an id.
func (a *chunkArena) registerLocked(c *chunk) {
	if n := len(a.freeIDs); n > 0 {
		c.id = a.freeIDs[n-1]
		a.freeIDs = a.freeIDs[:n-1]
		a.table[c.id] = c
		return
	}
	c.id = uint32(len(a.table))
	a.table = append(a.table, c)
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
		a.cur.used = 0
		clear(a.cur.scopes)
		a.cur.scopes = a.cur.scopes[:0]
		return
	}
	a.made.Add(1)
	a.cur = &chunk{data: make([]byte, chunkSize)}
	a.registerLocked(a.cur)
}

// freeLocked recycles c, all of whose spans are settled, or drops it.
func (a *chunkArena) freeLocked(c *chunk) {
	if !c.own && len(a.free) < maxFreeChunks {
		a.free = append(a.free, c)
		return
	}
	a.table[c.id] = nil
	a.freeIDs = append(a.freeIDs, c.id)
}

// settle records that n spans of c were exported or dropped.
func (a *chunkArena) settle(c *chunk, n int64) {
	if c != nil && c.pending.Add(-n) == 0 {
		a.mu.Lock()
		a.freeLocked(c)
		a.mu.Unlock()
	}
}

// scopeLocked returns the index of sc in c's scopes, adding it; -1 when
// c has no room for another scope.
func scopeLocked(c *chunk, sc tracer.Scope) int {
	for i := range c.scopes {
		if c.scopes[i] == sc {
			return i
		}
	}
	if len(c.scopes) >= maxChunkScopes {
		return -1
	}
	c.scopes = append(c.scopes, sc)
	return len(c.scopes) - 1
}

// encode encodes s into a chunk and returns where, and the chunk, which
// the caller settles once the span is exported or dropped.
func (a *chunkArena) encode(s *tracer.SpanData) (spanRef, *chunk) {
	sp := scratchPool.Get().(*[]byte)
	buf := appendSpan((*sp)[:0], s)
	var c *chunk
	if len(buf) > maxChunkedSpan {
		c = &chunk{data: append([]byte(nil), buf...), scopes: []tracer.Scope{s.Scope}, own: true, used: len(buf)}
		c.pending.Store(1)
		a.mu.Lock()
		a.registerLocked(c)
		a.mu.Unlock()
	} else {
		a.mu.Lock()
		if a.cur == nil || len(a.cur.data)-a.cur.used < len(buf) {
			a.nextLocked()
		}
		c = a.cur
		g := scopeLocked(c, s.Scope)
		if g < 0 {
			a.nextLocked()
			c = a.cur
			g = scopeLocked(c, s.Scope)
		}
		start := c.used
		c.used += copy(c.data[start:], buf)
		a.spans++
		a.mu.Unlock()
		ref := spanRef{chunk: c.id, scope: uint32(g), off: uint32(start), n: uint32(len(buf))}
		if cap(buf) <= maxPooledScratch {
			*sp = buf
			scratchPool.Put(sp)
		}
		return ref, c
	}
	ref := spanRef{chunk: c.id, n: uint32(len(buf))}
	if cap(buf) <= maxPooledScratch {
		*sp = buf
		scratchPool.Put(sp)
	}
	return ref, c
}

// chunkRun is a run of a batch's spans in one chunk.
type chunkRun struct {
	c *chunk
	// scopes is the chunk's scopes when the run was resolved: it covers
	// every span of the run.
	scopes []tracer.Scope
	n      int
}

// runs appends to dst the chunks of batch's spans, one per run of spans
// of one chunk.
func (a *chunkArena) runs(dst []chunkRun, batch []queued) []chunkRun {
	for i := 0; i < len(batch); {
		id := batch[i].ref.chunk
		j := i + 1
		for j < len(batch) && batch[j].ref.chunk == id {
			j++
		}
		a.mu.Lock()
		c := a.table[id]
		dst = append(dst, chunkRun{c: c, scopes: c.scopes, n: j - i})
		a.mu.Unlock()
		i = j
	}
	return dst
}
