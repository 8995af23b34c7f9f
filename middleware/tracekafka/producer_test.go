package tracekafka_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
)

// fetchN reads n messages with a plain reader (no GroupID).
func fetchN(t *testing.T, addr, topic string, n int) []kafka.Message {
	t.Helper()
	r := rawReader(t, addr, topic, "")
	ctx := ctxTimeout(t, 15*time.Second)
	out := make([]kafka.Message, 0, n)
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// TestResentMessageSharedHeaders: the same kafka.Message value sent twice,
// and two copies sharing a Headers backing array sent in one call: the
// caller's headers are untouched and every record carries exactly one
// traceparent, its own.
func TestResentMessageSharedHeaders(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(tr))

	shared := make([]kafka.Header, 1, 8)
	shared[0] = kafka.Header{Key: "app", Value: []byte("v")}
	m := kafka.Message{Value: []byte("x"), Headers: shared}
	alias := m
	msgs := []kafka.Message{m, alias}
	ctx := ctxTimeout(t, 10*time.Second)
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	require.NoError(t, w.WriteMessages(ctx, m)) // re-send
	require.Equal(t, []kafka.Header{{Key: "app", Value: []byte("v")}}, m.Headers)
	require.Equal(t, []kafka.Header{{Key: "app", Value: []byte("v")}}, msgs[0].Headers)
	require.Equal(t, []kafka.Header{{Key: "app", Value: []byte("v")}}, msgs[1].Headers)
	require.Equal(t, kafka.Header{}, shared[:2][1], "spare capacity written")
	require.Nil(t, msgs[0].WriterData)

	got := fetchN(t, b.Addr(), topic, 3)
	spans := e2e.Recorded(t, rec, 3)
	spanIDs := map[string]bool{}
	for _, s := range spans {
		spanIDs[s.SpanID] = true
	}
	seen := map[string]bool{}
	for _, g := range got {
		tp := header(g, "traceparent")
		require.Len(t, tp, 1, "headers %v", g.Headers)
		require.Len(t, header(g, "X-Flow-ID"), 1)
		require.Equal(t, []string{"v"}, header(g, "app"))
		require.Len(t, header(g, "baggage"), 1)
		require.Len(t, g.Headers, 4) // app, traceparent, baggage (flow_id), X-Flow-ID
		sid := tp[0][36:52]
		require.True(t, spanIDs[sid], "traceparent %s names no producer span", tp[0])
		require.False(t, seen[sid], "two records share a traceparent")
		seen[sid] = true
	}
}

// TestAsyncWriterCompletion: async writes finish spans from kafka-go's
// completion callback with partition and offset; the user's callback is
// chained and sees its own WriterData.
func TestAsyncWriterCompletion(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	raw := rawWriter(b.Addr(), topic)
	raw.Async = true
	var mu sync.Mutex
	var userData []any
	raw.Completion = func(msgs []kafka.Message, err error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			userData = append(userData, m.WriterData)
		}
	}
	w := tracekafka.NewWriter(raw, tracekafka.WithTracer(tr))
	ctx := ctxTimeout(t, 10*time.Second)
	require.NoError(t, w.WriteMessages(ctx,
		kafka.Message{Value: []byte("a"), WriterData: "A"},
		kafka.Message{Value: []byte("b"), WriterData: "B"}))
	require.NoError(t, w.Close()) // waits for completions
	mu.Lock()
	require.ElementsMatch(t, []any{"A", "B"}, userData)
	mu.Unlock()
	spans := e2e.Recorded(t, rec, 2)
	offsets := []any{}
	for _, s := range spans {
		require.Equal(t, tracer.KindProducer, s.Kind)
		offsets = append(offsets, s.Attributes["messaging.kafka.offset"])
		require.Equal(t, tracer.StatusUnset, s.Status.Code)
	}
	require.ElementsMatch(t, []any{int64(0), int64(1)}, offsets)
}

// TestWriterErrorFinishesSpans: a write that fails before reaching the
// broker still finishes its spans, marked as errors, and the error is
// returned unchanged.
func TestWriterErrorFinishesSpans(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(tr))
	// kafka-go refuses a message Topic when the Writer has one.
	err := w.WriteMessages(ctxTimeout(t, 5*time.Second), kafka.Message{Topic: "other", Value: []byte("x")})
	require.Error(t, err)
	spans := e2e.Recorded(t, rec, 1)
	require.Equal(t, tracer.StatusError, spans[0].Status.Code)
	require.Equal(t, "send other", spans[0].Name)

	// A cancelled context: spans finish too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.Error(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("y")}))
	spans = e2e.Recorded(t, rec, 2)
	require.Equal(t, tracer.StatusError, spans[1].Status.Code)
}

// TestOtherTracerFlowID: with a tracer other than flowtrace's the
// middleware writes and reads X-Flow-ID itself, and the consumer span is a
// follows-from reference of the producer span.
func TestOtherTracerFlowID(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	mt := mocktracer.New()
	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(mt))
	ctx := flowid.ContextWith(ctxTimeout(t, 15*time.Second), "mock-flow")
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("x")}))
	got := fetchN(t, b.Addr(), topic, 1)
	require.Equal(t, []string{"mock-flow"}, header(got[0], "X-Flow-ID"))

	r := rawReader(t, b.Addr(), topic, "")
	var fid string
	err := consume(ctx, r, func(ctx context.Context, m kafka.Message) error {
		fid = flowid.FromContext(ctx)
		return errStop
	}, tracekafka.WithTracer(mt))
	require.ErrorIs(t, err, errStop)
	require.Equal(t, "mock-flow", fid)
	spans := mt.FinishedSpans()
	require.Len(t, spans, 2)
	send, proc := spans[0], spans[1]
	require.Equal(t, "mock-flow", send.Tag("flow_id"))
	require.Equal(t, "mock-flow", proc.Tag("flow_id"))
	require.Equal(t, send.SpanContext.TraceID, proc.SpanContext.TraceID)
	require.Equal(t, send.SpanContext.SpanID, proc.ParentID)
	require.EqualValues(t, "producer", send.Tag("span.kind"))
	_ = opentracing.Tag{}
}
