package tracekafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

func values(msgs []kafka.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Value)
	}
	return out
}

// TestReaderReceiveSpans: Reader.FetchMessage and ReadMessage, without a
// GroupID, give each message a receive span that follows from the producer.
func TestReaderReceiveSpans(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(tr))
	ctx := ctxTimeout(t, 15*time.Second)
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("1")}, kafka.Message{Value: []byte("2")}))
	r := tracekafka.NewReader(rawReader(t, b.Addr(), topic, ""), tracekafka.WithTracer(tr))
	m1, err := r.FetchMessage(ctx)
	require.NoError(t, err)
	m2, err := r.ReadMessage(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"1", "2"}, values([]kafka.Message{m1, m2}))
	spans := e2e.Recorded(t, rec, 4)
	sends := map[string]tracetest.Span{}
	for _, s := range spans {
		if s.Kind == tracer.KindProducer {
			sends[s.SpanID] = s
		}
	}
	n := 0
	for _, s := range spans {
		if s.Kind != tracer.KindConsumer {
			continue
		}
		n++
		require.Equal(t, "receive "+topic, s.Name)
		p, ok := sends[s.ParentSpanID]
		require.True(t, ok)
		require.Equal(t, p.TraceID, s.TraceID)
		require.Equal(t, p.Attributes["flow_id"], s.Attributes["flow_id"])
	}
	require.Equal(t, 2, n)
}

// TestConsumeBatchLinks: a batch spanning many traces gets one span with
// one link per message, capped, the overflow counted.
func TestConsumeBatchLinks(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	producer, rec := e2e.NewRecorded(t)
	consumer := e2e.NewRecordedTo(t, rec)
	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(producer))
	const n, maxLinks = 40, 25
	ctx := ctxTimeout(t, 20*time.Second)
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: fmt.Appendf(nil, "m%d", i)}
	}
	require.NoError(t, w.WriteMessages(ctx, msgs...)) // no span in ctx: one trace per message

	r := rawReader(t, b.Addr(), topic, "batch")
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sizes []int
	total := 0
	err := consumeBatch(bctx, r, n, 2*time.Second, func(ctx context.Context, batch []kafka.Message) error {
		require.NotNil(t, opentracing.SpanFromContext(ctx))
		sizes = append(sizes, len(batch))
		total += len(batch)
		if total == n {
			cancel()
		}
		return nil
	}, tracekafka.WithTracer(consumer), tracekafka.WithMaxLinks(maxLinks))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, n, total)

	spans := e2e.Recorded(t, rec, n+len(sizes))
	sends := map[string]string{} // span id -> trace id
	for _, s := range spans {
		if s.Kind == tracer.KindProducer {
			sends[s.SpanID] = s.TraceID
		}
	}
	require.Len(t, sends, n)
	links, dropped := 0, int64(0)
	for _, s := range spans {
		if s.Kind != tracer.KindConsumer {
			continue
		}
		require.Equal(t, "process "+topic, s.Name)
		require.LessOrEqual(t, len(s.Links), maxLinks)
		for _, l := range s.Links {
			require.Equal(t, sends[l.SpanID], l.TraceID)
			require.NotEqual(t, s.TraceID, l.TraceID)
		}
		links += len(s.Links)
		if d, ok := s.Attributes["messaging.kafka.batch.links_dropped"]; ok {
			dropped += d.(int64)
		}
	}
	require.Equal(t, int64(n), int64(links)+dropped)
	if len(sizes) == 1 {
		require.Equal(t, int64(n-maxLinks), dropped)
	}
	require.Equal(t, uint64(dropped), consumer.Edge().Stats().LinksDropped, "counted on the consumer's tracer")
	require.Zero(t, producer.Edge().Stats().LinksDropped)
}

// TestHostileHeaders: every Kafka case of HOSTILE_INPUTS.md is consumed,
// never dropped, and counted.
func TestHostileHeaders(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	const tp1 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	const tp2 = "00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01"
	// Kafka's default message.max.bytes (kfake's too) is 1 MiB per batch:
	// a 1 MiB header cannot be produced at all, 900 KiB can.
	huge := strings.Repeat("a", 900<<10)
	big := strings.Repeat("b", 256<<10)
	h := func(kv ...string) []kafka.Header {
		var out []kafka.Header
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kafka.Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	cases := []struct {
		name     string
		headers  []kafka.Header
		parentOf string // expected trace id, "" for a new trace
	}{
		{"none", nil, ""},
		{"garbage", h("traceparent", "00-zz-yy-01", "tracestate", "\x00\xff"), ""},
		{"duplicate traceparent", h("traceparent", tp1, "Traceparent", tp2), ""},
		{"duplicate same value", h("traceparent", tp1, "traceparent", tp1), ""},
		{"huge traceparent", h("traceparent", huge), ""},
		{"huge baggage and flow id", h("traceparent", tp1, "baggage", "k="+big, "X-Flow-ID", big), "0af7651916cd43dd8448eb211c80319c"},
		{"uber-trace-id", h("uber-trace-id", "0af7651916cd43dd:b7ad6b7169203331:0:1"), ""},
		{"b3", h("b3", "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"), ""},
		{"flow id log injection", h("X-Flow-ID", "x\r\n\x1b[31mINFO fake"), ""},
		{"valid", h("traceparent", tp1, "X-Flow-ID", "ok-flow"), "0af7651916cd43dd8448eb211c80319c"},
	}
	msgs := make([]kafka.Message, len(cases))
	for i, c := range cases {
		msgs[i] = kafka.Message{Value: []byte(c.name), Headers: c.headers}
	}
	w := rawWriter(b.Addr(), topic)
	w.BatchBytes = 8 << 20
	t.Cleanup(func() { _ = w.Close(); w.Transport.(*kafka.Transport).CloseIdleConnections() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, m := range msgs { // one batch each: kfake caps a batch at 1 MiB
		require.NoError(t, w.WriteMessages(ctx, m))
	}

	var got []string
	flows := map[string]string{}
	r := rawReader(t, b.Addr(), topic, "")
	err := consume(ctx, r, func(ctx context.Context, m kafka.Message) error {
		got = append(got, string(m.Value))
		flows[string(m.Value)] = flowid.FromContext(ctx)
		if len(got) == len(cases) {
			cancel()
		}
		return nil
	}, tracekafka.WithTracer(tr))
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, got, len(cases))
	// The tracer's own counters: no before/after delta, so the test can
	// run in parallel with the others.
	st := tr.Edge().Stats()
	require.Equal(t, uint64(len(cases)), st.Messages)
	require.Equal(t, uint64(2), st.NoTraceContext)   // none, bad flow id
	require.Equal(t, uint64(6), st.InvalidContext)   // garbage, 2 dup, huge, uber, b3
	require.Equal(t, uint64(2), st.DuplicateHeaders) // two duplicate cases
	require.Equal(t, uint64(2), st.HugeHeaders)      // huge traceparent, huge baggage
	require.Equal(t, uint64(2), st.ForeignHeaders)   // uber, b3
	require.Equal(t, uint64(2), st.InvalidFlowID)    // huge and injected flow ids
	require.Equal(t, "ok-flow", flows["valid"])
	for name, f := range flows {
		require.True(t, flowid.Valid(f), "%s: flow id %q", name, f)
	}

	spans := e2e.Recorded(t, rec, len(cases))
	for _, s := range spans {
		for k, v := range s.Attributes {
			if str, ok := v.(string); ok {
				require.LessOrEqual(t, len(str), 4096, "tag %s", k)
				require.NotContains(t, str, "\n")
				require.NotContains(t, str, "\x1b")
			}
		}
		if s.ParentSpanID != "" {
			require.Equal(t, "0af7651916cd43dd8448eb211c80319c", s.TraceID)
		}
	}

	// With b3 and jaeger configured, the other tracers' headers are extracted.
	p, unknown := propagation.FromNames([]string{"tracecontext", "baggage", "b3", "jaeger", "flowid"})
	require.Empty(t, unknown)
	tr2 := tracer.New(tracer.WithPropagator(p))
	for _, c := range cases[6:8] {
		m := kafka.Message{Headers: c.headers}
		sp, _ := tracekafka.StartSpanFromMessage(context.Background(), m, tracekafka.WithTracer(tr2))
		require.Contains(t, sp.Context().(*tracer.SpanContext).TraceID().String(), "0af7651916cd43dd", c.name)
		sp.Finish()
	}
}
