package tracekafka_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation/flowid"
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
	// Package kafkaconsume runs the handler with retries, dead letters and
	// commits; tracekafka gives it the spans.
	c := kafkaconsume.New(r, kafkaconsume.WithTracing(tracekafka.WithTracer(tr)))
	_ = c.Consume(ctx, func(ctx context.Context, m kafka.Message) error {
		fmt.Printf("%s, flow %s\n", m.Value, flowid.FromContext(ctx))
		cancel() // stop after one message
		return nil
	})
	// Output: order placed, flow checkout-42
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
