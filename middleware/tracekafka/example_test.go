package tracekafka_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// A producer and a consumer service through an in-process broker.
func Example() {
	broker, err := kafkatest.Start(1, "orders")
	if err != nil {
		log.Fatal(err)
	}
	defer broker.Close()
	tr := tracer.New() // give it an export processor in a real service

	w := tracekafka.NewWriter(&kafka.Writer{
		Addr:         kafka.TCP(broker.Addr()),
		Topic:        "orders",
		RequiredAcks: kafka.RequireAll, // so that spans get the offset
		Transport:    &kafka.Transport{},
	}, tracekafka.WithTracer(tr))
	ctx := flowid.ContextWith(context.Background(), "checkout-42")
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("order placed")}); err != nil {
		log.Fatal(err)
	}
	_ = w.Close()

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker.Addr()}, Topic: "orders", GroupID: "billing", MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = tracekafka.Consume(ctx, r, func(ctx context.Context, m kafka.Message) error {
		fmt.Printf("%s, flow %s\n", m.Value, flowid.FromContext(ctx))
		cancel() // stop after one message
		return nil
	}, tracekafka.WithTracer(tr), tracekafka.WithRetry(3, 100*time.Millisecond))
	// Output: order placed, flow checkout-42
}

// Consuming in batches: one span per batch, linked to each producer span.
func ExampleConsumeBatch() {
	var r *kafka.Reader // kafka.NewReader(...)
	var dlq *kafka.Writer
	if r == nil {
		return
	}
	err := tracekafka.ConsumeBatch(context.Background(), r, 500, time.Second,
		func(ctx context.Context, msgs []kafka.Message) error {
			opentracing.SpanFromContext(ctx).LogFields(
				semconv.Event.Field("bulk insert"),
				semconv.Message.Field(fmt.Sprintf("%d rows", len(msgs))))
			return nil
		}, tracekafka.WithDeadLetter(dlq), tracekafka.WithMaxLinks(64))
	log.Println(err)
}

// Driving a reader by hand: a processing span per message.
func ExampleStartSpanFromMessage() {
	var r *kafka.Reader // kafka.NewReader(...)
	if r == nil {
		return
	}
	ctx := context.Background()
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return
		}
		span, mctx := tracekafka.StartSpanFromMessage(ctx, m)
		log.Printf("flow %s: %s", flowid.FromContext(mctx), m.Value)
		span.Finish()
		if err := r.CommitMessages(ctx, m); err != nil {
			return
		}
	}
}

func ExampleHeaderCarrier() {
	headers := []kafka.Header{{Key: "traceparent", Value: []byte("stale")}}
	m := kafka.Message{Headers: headers}
	c := tracekafka.NewHeaderCarrier(&m.Headers)
	c.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	fmt.Println(len(m.Headers), string(headers[0].Value))
	// Output: 1 stale
}
