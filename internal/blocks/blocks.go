// Package blocks hands out zero values cut from blocks of eight allocated
// at once: the tracer's unsampled roots and oteltracer's unsampled spans,
// of which a service that samples a few per cent starts mostly those.
// Each value is handed out once and never reused, as no span is; one
// still referenced keeps its whole block alive.
package blocks

import "sync/atomic"

// Len is the number of values in a block.
const Len = 8

type block[T any] struct {
	next   atomic.Uint32
	values [Len]T
}

// Cutter cuts values of T from its current block; the zero Cutter is
// ready to use.
type Cutter[T any] struct {
	cur atomic.Pointer[block[T]]
}

// New returns a zero T of the current block, starting a block when it is
// used up. Goroutines that find it used up at once each start one, and
// one of them becomes the current block.
func (c *Cutter[T]) New() *T {
	if b := c.cur.Load(); b != nil {
		if i := b.next.Add(1); i <= Len {
			return &b.values[i-1]
		}
	}
	b := new(block[T])
	b.next.Store(1)
	c.cur.Store(b)
	return &b.values[0]
}
