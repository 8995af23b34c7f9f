package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/examples/workshop/shopkit"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/semconv"
)

// runPayment consumes the orders topic until ctx ends, charging each order.
func runPayment(ctx context.Context) error {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:  []string{os.Getenv(shopkit.EnvBrokers)},
		GroupID:  "payment",
		Topic:    shopkit.OrdersTopic,
		MaxWait:  50 * time.Millisecond,
		MinBytes: 1,
		MaxBytes: 1 << 20,
	})
	defer r.Close()
	fmt.Println("ready -")
	// A consumer span per message, a child of the producer's span through
	// the message headers; the message is committed after the handler.
	err := kafkaconsume.New(r).Consume(ctx, func(ctx context.Context, m kafka.Message) error {
		if err := charge(ctx, logger, m); err != nil {
			logger.ErrorContext(ctx, "payment failed", "error", err)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil // SIGTERM
	}
	return err
}

// charge charges one order. The user "declined" has a card that is always
// declined: a business outcome, not a failure to process the message.
func charge(ctx context.Context, logger *slog.Logger, m kafka.Message) error {
	var order shopkit.Order
	if err := json.Unmarshal(m.Value, &order); err != nil {
		return err
	}
	time.Sleep(3 * time.Millisecond) // the card processor
	if order.User == "declined" {
		// Keys from the registry: a typo would not compile.
		if span := opentracing.SpanFromContext(ctx); span != nil {
			semconv.Error.Set(span, true)
			semconv.ErrorKind.Set(span, "card_declined")
		}
		logger.InfoContext(ctx, "payment declined", "order_id", order.ID)
		return nil
	}
	logger.InfoContext(ctx, "payment accepted", "order_id", order.ID, "total", order.Total)
	return nil
}
