package slab

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTakeCutsCapacityLimitedPieces(t *testing.T) {
	t.Parallel()
	s := make(Slab[int], 0, 8)
	a := s.Take(1, 3)
	b := s.Take(2, 2)
	require.Equal(t, []int{0}, a)
	require.Equal(t, 3, cap(a))
	require.Len(t, s, 5, "a piece takes its capacity")
	a = append(a, 1, 2)
	b[0] = 9
	a = append(a, 3) // over a's capacity: copies
	require.Equal(t, []int{0, 1, 2, 3}, a)
	require.Equal(t, []int{9, 0}, b, "an append to a never writes into b")
	c := s.Take(1, 4) // no room left
	require.Len(t, s, 5)
	require.Equal(t, 4, cap(c))
}

func TestNilSlabAllocates(t *testing.T) {
	t.Parallel()
	var s *Slab[byte]
	require.Len(t, s.Take(2, 3), 2)
	v := s.Keep(append(s.Free(3), "abc"...))
	require.Equal(t, "abc", string(v))
	require.Equal(t, 3, cap(v))
}

func TestKeep(t *testing.T) {
	t.Parallel()
	s := make(Slab[byte], 0, 8)
	v := s.Keep(append(s.Free(3), "abc"...))
	require.Equal(t, "abc", string(v))
	require.Equal(t, "abc", string(s), "kept in the slab")
	w := s.Keep(append(s.Free(2), "toolong"...)) // outgrew the free room
	require.Equal(t, "toolong", string(w))
	require.Equal(t, "abc", string(s), "what outgrew the room is not the slab's")
	require.Equal(t, 3, cap(v))
	require.Empty(t, s.Keep(nil))
}
