package kafkaconsume_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// A message that can never succeed is retried, then skipped (committed
// past) so the partition goes on; the consumer's Stats and its span say so.
func ExampleConsumer_Consume() {
	broker, err := kafkatest.Start(1, "orders")
	if err != nil {
		log.Fatal(err)
	}
	defer broker.Close()
	w := &kafka.Writer{Addr: kafka.TCP(broker.Addr()), Topic: "orders", RequiredAcks: kafka.RequireAll, Transport: &kafka.Transport{}}
	if err := w.WriteMessages(context.Background(), kafka.Message{Value: []byte("bad")}, kafka.Message{Value: []byte("good")}); err != nil {
		log.Fatal(err)
	}
	_ = w.Close()
	w.Transport.(*kafka.Transport).CloseIdleConnections()

	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithProcessor(rec))
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker.Addr()}, Topic: "orders", GroupID: "billing", MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c := kafkaconsume.New(r,
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)),
		kafkaconsume.WithRetry(2, 10*time.Millisecond))
	err = c.Consume(ctx, func(ctx context.Context, m kafka.Message) error {
		if string(m.Value) == "bad" {
			return errors.New("cannot parse order")
		}
		fmt.Println("handled", string(m.Value))
		cancel() // stop after the good one
		return nil
	})
	fmt.Println(errors.Is(err, context.Canceled))
	st := c.Stats()
	fmt.Println("skipped", st.Skipped, "handler errors", st.HandlerErrors)
	bad, _ := rec.FindSpan("process orders")
	fmt.Println(bad.Attributes["messaging.kafka.skipped"], bad.Attributes["messaging.kafka.attempts"])
	// Output:
	// handled good
	// true
	// skipped 1 handler errors 2
	// true 2
}

// Consuming in batches with a dead-letter topic: one span per batch,
// linked to each producer span.
func ExampleConsumer_ConsumeBatch() {
	var r *kafka.Reader   // kafka.NewReader(...)
	var dlq *kafka.Writer // &kafka.Writer{Topic: "orders-dlq", ...}
	if r == nil {
		return
	}
	c := kafkaconsume.New(r, kafkaconsume.WithDeadLetter(dlq), kafkaconsume.WithTracing(tracekafka.WithMaxLinks(64)))
	err := c.ConsumeBatch(context.Background(), 500, time.Second,
		func(ctx context.Context, msgs []kafka.Message) error {
			opentracing.SpanFromContext(ctx).LogFields(
				semconv.Event.Field("bulk insert"),
				semconv.Message.Field(fmt.Sprintf("%d rows", len(msgs))))
			return nil
		})
	if !errors.Is(err, io.EOF) {
		log.Println(err)
	}
}
