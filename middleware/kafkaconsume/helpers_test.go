package kafkaconsume_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/tracetest"
)

var topicSeq atomic.Int64

// newBroker starts a kfake broker with a fresh topic.
func newBroker(t testing.TB, partitions int) (*kafkatest.Broker, string) {
	t.Helper()
	topic := fmt.Sprintf("c%d", topicSeq.Add(1))
	return kafkatest.NewBrokerPartitions(t, partitions, topic), topic
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

func closeWriter(w *kafka.Writer) {
	_ = w.Close()
	w.Transport.(*kafka.Transport).CloseIdleConnections()
}

// rawReader returns a kafka-go reader with synchronous commits; group may
// be empty.
func rawReader(t testing.TB, addr, topic, group string) *kafka.Reader {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{
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
	})
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// produce writes messages with the given values.
func produce(t testing.TB, addr, topic string, values ...string) {
	t.Helper()
	w := rawWriter(addr, topic)
	defer closeWriter(w)
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Value: []byte(v)}
	}
	require.NoError(t, w.WriteMessages(ctxTimeout(t, 10*time.Second), msgs...))
}

// nextValue restarts the group and returns the first message it gets: the
// one after the last committed offset.
func nextValue(t testing.TB, addr, topic, group string) string {
	t.Helper()
	r := rawReader(t, addr, topic, group)
	defer func() { _ = r.Close() }()
	m, err := r.FetchMessage(ctxTimeout(t, 10*time.Second))
	require.NoError(t, err)
	return string(m.Value)
}

// logBuffer is a slog logger into a buffer, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// byOffset returns the recorded consumer spans by Kafka offset.
func byOffset(spans []tracetest.Span) map[int64]tracetest.Span {
	out := map[int64]tracetest.Span{}
	for _, s := range spans {
		if o, ok := s.Attributes["messaging.kafka.offset"].(int64); ok {
			out[o] = s
		}
	}
	return out
}

func values(msgs []kafka.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Value)
	}
	return out
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

// limited hands out n messages of r, then io.EOF, so that a consume loop
// ends by itself after its last commit (no cancel racing a commit).
type limited struct {
	r *kafka.Reader
	n int
}

func (l *limited) FetchMessage(ctx context.Context) (kafka.Message, error) {
	if l.n == 0 {
		return kafka.Message{}, io.EOF
	}
	l.n--
	return l.r.FetchMessage(ctx)
}

func (l *limited) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	return l.r.CommitMessages(ctx, msgs...)
}
