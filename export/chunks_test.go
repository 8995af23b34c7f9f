package export

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/tracer"
)

// TestChunksReusedBytesIntact: spans encoded into reused chunks arrive
// intact and in order over many batches, from several goroutines, with
// spans that do not fit what is left of a chunk and one too large for
// one; the chunks are reused rather than allocated per batch.
func TestChunksReusedBytesIntact(t *testing.T) {
	tr := &captureTransport{}
	b := NewBatcher(NewOTLP(tr, testRes), WithMaxBatchSize(64), WithScheduleDelay(time.Hour))
	const writers, rounds, perRound = 4, 20, 60
	want := map[string]int{}
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perRound; i++ {
					s := mkSpan(i)
					s.Name = fmt.Sprintf("r%d-w%d-%d", round, w, i)
					switch {
					case round == 3 && w == 0 && i == 7:
						s.Attributes = append(s.Attributes, tracer.Attribute{Key: "big", Value: strings.Repeat("x", maxChunkedSpan+100)})
					case i%9 == 0:
						s.Attributes = append(s.Attributes, tracer.Attribute{Key: "mid", Value: strings.Repeat("y", 2500)})
					}
					b.OnEnd(s)
				}
			}()
		}
		wg.Wait()
		for w := 0; w < writers; w++ {
			for i := 0; i < perRound; i++ {
				want[fmt.Sprintf("r%d-w%d-%d", round, w, i)]++
			}
		}
		require.NoError(t, b.ForceFlush(context.Background()))
	}
	require.NoError(t, b.Shutdown(context.Background()))
	got := map[string]int{}
	for _, r := range tr.reqs {
		var req coltracepb.ExportTraceServiceRequest
		require.NoError(t, proto.Unmarshal(r, &req))
		for _, sp := range req.ResourceSpans[0].ScopeSpans[0].Spans {
			got[sp.Name]++
			var i int
			_, err := fmt.Sscanf(sp.Name[strings.LastIndexByte(sp.Name, '-')+1:], "%d", &i)
			require.NoError(t, err)
			// The rest of the span is mkSpan(i)'s: bytes of another span
			// would show here.
			require.Equal(t, spanIDOf(i).String(), fmt.Sprintf("%x", sp.SpanId), sp.Name)
			require.Equal(t, int64(i), sp.Attributes[0].Value.GetIntValue(), sp.Name)
		}
	}
	require.Equal(t, want, got)
	require.Equal(t, int64(writers*rounds*perRound), b.Stats().Exported)
	// ~1.5 MB of spans went through; without reuse that is ~50 chunks.
	t.Logf("chunks made: %d", b.chunks.made.Load())
	require.Less(t, b.chunks.made.Load(), int64(20), "chunks are reused")
}

// TestQueueHoldsNoPointers: the queue's elements and the worker's batch
// of encoded spans hold no pointers, so the garbage collector does not
// scan the queue's buffer (2,048 slots by default) in every cycle, and a
// span sent through it while the collector marks costs no write barriers.
func TestQueueHoldsNoPointers(t *testing.T) {
	var hasPointers func(reflect.Type) bool
	hasPointers = func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
			return true
		case reflect.Array:
			return t.Len() > 0 && hasPointers(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				if hasPointers(t.Field(i).Type) {
					return true
				}
			}
		}
		return false
	}
	require.False(t, hasPointers(reflect.TypeFor[queued]()))
	require.True(t, hasPointers(reflect.TypeFor[queuedSpan]()), "the check sees pointers")
}

// TestChunksManyScopes: spans of more scopes than a chunk names
// (maxChunkScopes) arrive in the right ScopeSpans, and spans too large to
// share a chunk keep their scope.
func TestChunksManyScopes(t *testing.T) {
	tr := &captureTransport{}
	b := NewBatcher(NewOTLP(tr, testRes), WithMaxBatchSize(1000), WithScheduleDelay(time.Hour))
	const n = 3 * maxChunkScopes * 4
	for i := range n {
		s := scoped(i, fmt.Sprintf("scope-%d", i%(3*maxChunkScopes)), "1")
		if i%50 == 7 {
			s.Attributes = append(s.Attributes, tracer.Attribute{Key: "big", Value: strings.Repeat("x", maxChunkedSpan+100)})
		}
		b.OnEnd(s)
	}
	require.NoError(t, b.ForceFlush(context.Background()))
	require.NoError(t, b.Shutdown(context.Background()))
	got := 0
	for _, r := range tr.reqs {
		var req coltracepb.ExportTraceServiceRequest
		require.NoError(t, proto.Unmarshal(r, &req))
		for _, ss := range req.ResourceSpans[0].ScopeSpans {
			for _, sp := range ss.Spans {
				var i int
				_, err := fmt.Sscanf(sp.Name, "op-%d", &i)
				require.NoError(t, err)
				require.Equal(t, fmt.Sprintf("scope-%d", i%(3*maxChunkScopes)), ss.Scope.Name, sp.Name)
				require.Equal(t, spanIDOf(i).String(), fmt.Sprintf("%x", sp.SpanId), sp.Name)
				got++
			}
		}
	}
	require.Equal(t, n, got)
	require.Equal(t, int64(n), b.Stats().Exported)
}
