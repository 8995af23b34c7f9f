package tracekafka_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
)

var topicSeq atomic.Int64

// newTopic returns a broker address and a fresh topic name.
func newBroker(t testing.TB, partitions int) (*kafkatest.Broker, string) {
	t.Helper()
	topic := fmt.Sprintf("t%d", topicSeq.Add(1))
	b := kafkatest.NewBrokerPartitions(t, partitions, topic)
	return b, topic
}

// rawWriter returns a synchronous kafka-go writer with its own transport.
func rawWriter(addr, topic string) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		Balancer:     &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		Transport:    &kafka.Transport{},
	}
}

// newWriter returns a traced writer closed when the test ends.
func newWriter(t testing.TB, addr, topic string, opts ...tracekafka.Option) *tracekafka.Writer {
	t.Helper()
	w := tracekafka.NewWriter(rawWriter(addr, topic), opts...)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// rawReader returns a kafka-go reader; group may be empty.
func rawReader(t testing.TB, addr, topic, group string) *kafka.Reader {
	t.Helper()
	cfg := kafka.ReaderConfig{
		Brokers:           []string{addr},
		Topic:             topic,
		GroupID:           group,
		MinBytes:          1,
		MaxBytes:          10 << 20,
		MaxWait:           50 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: 100 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		RebalanceTimeout:  2 * time.Second,
		ReadBackoffMin:    10 * time.Millisecond,
		ReadBackoffMax:    50 * time.Millisecond,
	}
	if group != "" {
		cfg.CommitInterval = 0 // synchronous commits
	}
	r := kafka.NewReader(cfg)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func header(m kafka.Message, key string) []string {
	var out []string
	for _, h := range m.Headers {
		if h.Key == key {
			out = append(out, string(h.Value))
		}
	}
	return out
}

// consume runs h over r with kafkaconsume, tracing with opts; a handler
// error ends it (one attempt, then Stop), as tests here end with errStop.
func consume(ctx context.Context, r tracekafka.MessageReader, h kafkaconsume.Handler, opts ...tracekafka.Option) error {
	return newConsumer(r, opts).Consume(ctx, h)
}

// consumeBatch is consume for batches.
func consumeBatch(ctx context.Context, r tracekafka.MessageReader, n int, wait time.Duration, h kafkaconsume.BatchHandler, opts ...tracekafka.Option) error {
	return newConsumer(r, opts).ConsumeBatch(ctx, n, wait, h)
}

func newConsumer(r tracekafka.MessageReader, opts []tracekafka.Option) *kafkaconsume.Consumer {
	return kafkaconsume.New(r, kafkaconsume.WithTracing(opts...), kafkaconsume.WithRetry(1, 0),
		kafkaconsume.WithOnFailure(kafkaconsume.Stop), kafkaconsume.WithLogger(slog.New(slog.DiscardHandler)))
}
