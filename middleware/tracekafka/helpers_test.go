package tracekafka_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
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

// produceRaw writes messages with a plain kafka-go writer.
func produceRaw(t testing.TB, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	w := rawWriter(addr, topic)
	defer func() {
		_ = w.Close()
		w.Transport.(*kafka.Transport).CloseIdleConnections()
	}()
	require.NoError(t, w.WriteMessages(ctxTimeout(t, 10*time.Second), msgs...))
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
