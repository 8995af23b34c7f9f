package export

import (
	"context"
	"fmt"
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
