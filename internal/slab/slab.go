// Package slab cuts many small slices out of one buffer made once, so that
// a job that needs a few slices per item (the Kafka Writer's header slices
// and injected values, for every message of a batch) allocates once
// instead of once per slice.
//
// A piece is never handed out twice and is capacity-limited: an append to
// it copies instead of writing into the next piece. Memory is not reused:
// a Slab lives as long as the job that made it. A nil *Slab has no room,
// so every call allocates: code can take pieces the same way whether or
// not its caller set up a buffer.
package slab

// Slab is the buffer pieces are cut from: its length is what was handed
// out, its capacity the room. It is not safe for concurrent use.
type Slab[T any] []T

// Take returns a zeroed piece of length n and capacity c (n <= c).
func (s *Slab[T]) Take(n, c int) []T {
	if s == nil || cap(*s)-len(*s) < c {
		return make([]T, n, c)
	}
	i := len(*s)
	*s = (*s)[:i+c]
	return (*s)[i : i+n : i+c]
}

// Free returns an empty slice over the free room when it holds n values,
// else one of its own: append a value of up to n to it, then Keep it.
func (s *Slab[T]) Free(n int) []T {
	if s == nil || cap(*s)-len(*s) < n {
		return make([]T, 0, n)
	}
	return (*s)[len(*s):len(*s)]
}

// Keep takes v, an append to the last Free, out of the free room when it
// is still there (an append that outgrew it has memory of its own), and
// returns it capacity-limited either way.
func (s *Slab[T]) Keep(v []T) []T {
	if s == nil || len(v) == 0 || cap(*s)-len(*s) < len(v) || &(*s)[:len(*s)+1][len(*s)] != &v[0] {
		return v[:len(v):len(v)]
	}
	i := len(*s)
	*s = (*s)[:i+len(v)]
	return (*s)[i : i+len(v) : i+len(v)]
}
