//go:build !race

package tracekafka

import (
	"context"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// TestInjectIntoArenaAllocs: injecting a message's trace context, baggage
// and flow id into the Writer's arena allocates nothing (it took 8
// allocations per message before the arena: a header slice, three values
// and four strings).
func TestInjectIntoArenaAllocs(t *testing.T) {
	const runs = 100
	a := &arena{hdrs: make([]kafka.Header, 0, 4*(runs+1)), b: make([]byte, 0, (runs+1)*injectedBytes), vals: make([]string, 0, 4*(runs+1))}
	s := state(1)
	cs := make([]HeaderCarrier, runs+1)
	hs := make([][]kafka.Header, runs+1)
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		c := &cs[i]
		c.h = &hs[i]
		c.use(a)
		propagation.TraceContext{}.Inject(s, c)
		propagation.W3CBaggage{}.Inject(s, c)
		c.Set("X-Flow-ID", "flow-b")
		if v := c.Values("x-flow-id"); len(v) != 1 || v[0] != "flow-b" {
			t.Fatal(v)
		}
		i++
	})
	require.Zero(t, allocs)
}

// dropSpans is a processor that drops finished spans.
type dropSpans struct{}

func (dropSpans) OnEnd(*tracer.SpanData)           {}
func (dropSpans) ForceFlush(context.Context) error { return nil }
func (dropSpans) Shutdown(context.Context) error   { return nil }

// TestConsumerSpanAllocs: a consumed message's span, from its headers to
// Finish, with flowtrace's tracer (the consumer half of BenchmarkKafka's
// allocs/msg). It took 10 allocations before the message stayed on the
// caller's stack, the read carrier came from a pool, the follows-from
// reference was one word (tracer.Reference) and the extracted context held
// its flow id member. What is left: the header values as one string, the
// extracted context, the span, its flow_id tag and offset boxed, and the
// context holding the span.
func TestConsumerSpanAllocs(t *testing.T) {
	start := SpanStarter(WithTracer(tracer.New(tracer.WithProcessor(dropSpans{}))))
	m := kafka.Message{Topic: "t", Partition: 3, Offset: 4096, Value: []byte("small payload"), Headers: []kafka.Header{
		{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")},
		{Key: "baggage", Value: []byte("flow_id=4f1c2a9e-1d2b-4c3d-9e8f-7a6b5c4d3e2f")},
		{Key: "x-flow-id", Value: []byte("4f1c2a9e-1d2b-4c3d-9e8f-7a6b5c4d3e2f")},
	}}
	allocs := testing.AllocsPerRun(100, func() {
		span, _ := start(context.Background(), m)
		span.Finish()
	})
	require.LessOrEqual(t, allocs, 6.0)
}
