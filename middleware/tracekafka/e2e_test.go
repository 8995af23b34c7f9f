package tracekafka_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

var errStop = errors.New("stop")

// TestProduceConsumeTrace: one message from a traced producer service to a
// traced consumer service through the broker is one trace, the consumer
// span follows from the producer span, and both carry the same flow id.
func TestProduceConsumeTrace(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	producerTr, rcv := e2e.NewTracer(t, "orders")
	consumerTr := e2e.NewTracerTo(t, rcv, "billing")

	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(producerTr), tracekafka.WithMessageKey())
	root := producerTr.StartSpan("POST /orders")
	ctx := opentracing.ContextWithSpan(context.Background(), root)
	ctx = flowid.ContextWith(ctx, "flow-123")
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Key: []byte("order-1"), Value: []byte("hello")}))
	root.Finish()

	r := rawReader(t, b.Addr(), topic, "billing")
	var gotFlow string
	var gotSpan opentracing.Span
	err := consume(ctxTimeout(t, 20*time.Second), r, func(ctx context.Context, m kafka.Message) error {
		gotFlow = flowid.FromContext(ctx)
		gotSpan = opentracing.SpanFromContext(ctx)
		return errStop
	}, tracekafka.WithTracer(consumerTr))
	require.ErrorIs(t, err, errStop)
	require.Equal(t, "flow-123", gotFlow)
	require.NotNil(t, gotSpan)

	e2e.Flush(t, consumerTr, rcv, 2)
	require.NoError(t, producerTr.ForceFlush(context.Background()))
	spans, err := rcv.WaitForSpans(ctxTimeout(t, 5*time.Second), 3)
	require.NoError(t, err)
	byName := map[string]tracetest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	rootS, send, proc := byName["POST /orders"], byName["send "+topic], byName["process "+topic]
	require.NotEmpty(t, send.SpanID, "spans: %+v", spans)
	require.NotEmpty(t, proc.SpanID)
	require.Equal(t, rootS.TraceID, send.TraceID)
	require.Equal(t, rootS.SpanID, send.ParentSpanID)
	require.Equal(t, send.TraceID, proc.TraceID)
	require.Equal(t, send.SpanID, proc.ParentSpanID)
	require.Equal(t, tracer.KindProducer, send.Kind)
	require.Equal(t, tracer.KindConsumer, proc.Kind)
	require.Equal(t, "flow-123", send.Attributes["flow_id"])
	require.Equal(t, "flow-123", proc.Attributes["flow_id"])
	require.Equal(t, "kafka", send.Attributes["messaging.system"])
	require.Equal(t, topic, send.Attributes["messaging.destination.name"])
	require.Equal(t, int64(0), send.Attributes["messaging.kafka.offset"])
	require.Equal(t, int64(0), send.Attributes["messaging.kafka.partition"])
	require.Equal(t, int64(5), send.Attributes["messaging.message.body.size"])
	require.Equal(t, "order-1", send.Attributes["messaging.kafka.message.key"])
	require.Equal(t, "billing", proc.Attributes["messaging.consumer.group.name"])
	require.Equal(t, tracer.StatusError, proc.Status.Code)
	require.Equal(t, "orders", send.Resource["service.name"])
	require.Equal(t, "billing", proc.Resource["service.name"])
	require.True(t, strings.HasPrefix(proc.Name, "process "))
}
