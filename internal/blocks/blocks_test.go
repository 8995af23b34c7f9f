package blocks

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNewDistinct: values cut concurrently are each their own and zero,
// and one allocation serves Len of them.
func TestNewDistinct(t *testing.T) {
	var c Cutter[[4]int]
	const goroutines, each = 4, 200
	got := make(chan *[4]int, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				v := c.New()
				v[0]++ // the race detector sees a shared value
				got <- v
			}
		}()
	}
	wg.Wait()
	close(got)
	seen := map[*[4]int]bool{}
	for v := range got {
		require.False(t, seen[v])
		seen[v] = true
		require.Equal(t, [4]int{1}, *v)
	}
	allocs := testing.AllocsPerRun(Len*100, func() { c.New() })
	require.LessOrEqual(t, allocs, 1.0/Len+0.01)
}
