package kafkaconsume_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
)

var errPoison = errors.New("poison message")

// TestPoisonMessageDoesNotBlockThePartition is issue 17's case: a handler
// that always fails on m1. At 030e853 tracekafka.Consume retried it 3
// times, returned without committing, and a restart got m1 again for ever:
// m2 was never processed. Now, by default, m1 is given up after its
// attempts (span failed and tagged skipped, counted, logged), committed
// past, and m2 is processed.
func TestPoisonMessageDoesNotBlockThePartition(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "m0", "m1", "m2")
	var logs logBuffer
	first := rawReader(t, b.Addr(), topic, "g")
	c := kafkaconsume.New(&limited{r: first, n: 3},
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)),
		kafkaconsume.WithRetry(3, time.Millisecond),
		kafkaconsume.WithLogger(logs.logger()))
	var handled []string
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(ctx context.Context, m kafka.Message) error {
		handled = append(handled, string(m.Value))
		if string(m.Value) == "m1" {
			return errPoison
		}
		return nil
	})
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, []string{"m0", "m1", "m1", "m1", "m2"}, handled, "m2 is processed after m1 is given up")
	require.Equal(t, kafkaconsume.Stats{Messages: 3, Retries: 2, HandlerErrors: 3, Failed: 1, Skipped: 1, Committed: 3}, c.Stats())

	spans := byOffset(rec.Spans())
	require.Len(t, spans, 3)
	failed := spans[1]
	require.Equal(t, tracer.StatusError, failed.Status.Code)
	require.Equal(t, true, failed.Attributes["messaging.kafka.skipped"])
	require.Equal(t, int64(3), failed.Attributes["messaging.kafka.attempts"])
	require.Equal(t, tracer.StatusUnset, spans[2].Status.Code)

	lines := logs.lines()
	require.Len(t, lines, 1)
	for _, want := range []string{"level=WARN", "topic=" + topic, "partition=0", "offset=1", "action=skipped", `error="poison message"`} {
		require.Contains(t, lines[0], want)
	}

	produce(t, b.Addr(), topic, "m3")
	require.NoError(t, first.Close()) // leave the group at once
	require.Equal(t, "m3", nextValue(t, b.Addr(), topic, "g"), "everything up to m2 was committed: a restart does not see m1 again")
}

// TestStopKeepsThePartition: WithOnFailure(Stop) is the old behaviour, on
// request: the error is returned, nothing is committed past m1, and a
// restart gets m1 again.
func TestStopKeepsThePartition(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "m0", "m1", "m2")
	var logs logBuffer
	first := rawReader(t, b.Addr(), topic, "stop")
	c := kafkaconsume.New(first,
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)),
		kafkaconsume.WithRetry(2, time.Millisecond),
		kafkaconsume.WithOnFailure(kafkaconsume.Stop),
		kafkaconsume.WithLogger(logs.logger()))
	var handled []string
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(ctx context.Context, m kafka.Message) error {
		handled = append(handled, string(m.Value))
		if string(m.Value) == "m1" {
			return errPoison
		}
		return nil
	})
	require.ErrorIs(t, err, errPoison)
	require.Equal(t, []string{"m0", "m1", "m1"}, handled)
	require.Equal(t, kafkaconsume.Stats{Messages: 2, Retries: 1, HandlerErrors: 2, Failed: 1, Committed: 1}, c.Stats())
	require.Len(t, logs.lines(), 1)
	require.Contains(t, logs.lines()[0], "action=stopped")
	require.NoError(t, first.Close()) // leave the group at once
	require.Equal(t, "m1", nextValue(t, b.Addr(), topic, "stop"), "the failed message is delivered again")

	failed := byOffset(rec.Spans())[1]
	require.Equal(t, tracer.StatusError, failed.Status.Code)
	require.NotContains(t, failed.Attributes, "messaging.kafka.skipped")
}

// TestPanicRecovered is issue 17's case of a handler that panics on m1. At
// 030e853 the panic went through Consume and killed the process (the span
// was lost with the queue), and a restart crash-looped on m1. Now the
// panic is recovered: m1's span is finished, failed, with a panic event,
// and recorded; m1 is given up like a failing message and m2 processed;
// a restart goes on after m2.
func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "m0", "m1", "m2")
	first := rawReader(t, b.Addr(), topic, "panic")
	c := kafkaconsume.New(&limited{r: first, n: 3},
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)),
		kafkaconsume.WithRetry(2, time.Millisecond),
		kafkaconsume.WithLogger((&logBuffer{}).logger()))
	var handled []string
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(ctx context.Context, m kafka.Message) error {
		handled = append(handled, string(m.Value))
		if string(m.Value) == "m1" {
			var none []byte
			_ = none[len(m.Value)] // a real runtime panic
		}
		return nil
	})
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, []string{"m0", "m1", "m1", "m2"}, handled)
	require.Equal(t, kafkaconsume.Stats{Messages: 3, Retries: 1, HandlerErrors: 2, Panics: 2, Failed: 1, Skipped: 1, Committed: 3}, c.Stats())

	failed := byOffset(rec.Spans())[1]
	require.Equal(t, tracer.StatusError, failed.Status.Code)
	require.False(t, failed.End.IsZero())
	var panics int
	for _, e := range failed.Events {
		if e.Name == "panic" {
			panics++
			require.Contains(t, e.Attributes["message"], "index out of range")
		}
	}
	require.Equal(t, 2, panics, "one panic event per attempt")

	produce(t, b.Addr(), topic, "m3")
	require.NoError(t, first.Close()) // leave the group at once
	require.Equal(t, "m3", nextValue(t, b.Addr(), topic, "panic"), "no crash loop: the group went on past m1")
}

// TestPanicWithStop: with Stop, the recovered panic is returned as a
// *PanicError carrying the value and the stack.
func TestPanicWithStop(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "m0")
	c := kafkaconsume.New(rawReader(t, b.Addr(), topic, ""),
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)),
		kafkaconsume.WithRetry(1, 0),
		kafkaconsume.WithOnFailure(kafkaconsume.Stop),
		kafkaconsume.WithLogger((&logBuffer{}).logger()))
	boom := errors.New("boom")
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(context.Context, kafka.Message) error { panic(boom) })
	var pe *kafkaconsume.PanicError
	require.ErrorAs(t, err, &pe)
	require.ErrorIs(t, err, boom, "a panic with an error unwraps to it")
	require.Contains(t, string(pe.Stack), "TestPanicWithStop")
	require.Equal(t, 1, rec.Len())
	require.Equal(t, uint64(0), c.Stats().Committed, "a reader without a GroupID is never committed")
}

// TestGaveUpLogIsRateLimited: ten poison messages in a row write
// LogBurst warnings, count the rest, and each consumer counts its own.
func TestGaveUpLogIsRateLimited(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, _ := e2e.NewRecorded(t)
	vals := make([]string, 10)
	for i := range vals {
		vals[i] = fmt.Sprintf("p%d", i)
	}
	produce(t, b.Addr(), topic, vals...)
	frozen := time.Unix(1000, 0)
	var logs logBuffer
	c := kafkaconsume.New(&limited{r: rawReader(t, b.Addr(), topic, "logs"), n: 10},
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)),
		kafkaconsume.WithRetry(1, 0),
		kafkaconsume.WithLogger(logs.logger()),
		kafkaconsume.WithClock(func() time.Time { return frozen }))
	other := kafkaconsume.New(rawReader(t, b.Addr(), topic, ""))
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(context.Context, kafka.Message) error { return errPoison })
	require.ErrorIs(t, err, io.EOF)
	require.Len(t, logs.lines(), kafkaconsume.LogBurst)
	st := c.Stats()
	require.Equal(t, uint64(10), st.Skipped)
	require.Equal(t, uint64(10-kafkaconsume.LogBurst), st.LogSuppressed)
	require.Equal(t, kafkaconsume.Stats{}, other.Stats(), "counters are per consumer")
}

// TestLogsThroughTheTracersLogger: without WithLogger the consumer
// reports through its flowtrace tracer's logger, the one flowtrace.Start
// threads through (on main before issue 17 item 4 it made a logger of its
// own on stderr, ignoring Start's OTEL_LOG_LEVEL and WithLogger).
func TestLogsThroughTheTracersLogger(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	var logs logBuffer
	tr, _ := e2e.NewRecorded(t, tracer.WithLogger(logs.logger()))
	produce(t, b.Addr(), topic, "p0")
	c := kafkaconsume.New(&limited{r: rawReader(t, b.Addr(), topic, "tracerlog"), n: 1},
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)), kafkaconsume.WithRetry(1, 0))
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(context.Context, kafka.Message) error { return errPoison })
	require.ErrorIs(t, err, io.EOF)
	require.Len(t, logs.lines(), 1)
	require.Contains(t, logs.lines()[0], "kafka message failed its last attempt")
}

// TestRetryThenSuccess: a handler that fails twice and then succeeds is
// committed once, its span not failed.
func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "m0", "m1")
	c := kafkaconsume.New(&limited{r: rawReader(t, b.Addr(), topic, "retry"), n: 2},
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)), kafkaconsume.WithRetry(5, time.Millisecond))
	calls := 0
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(ctx context.Context, m kafka.Message) error {
		calls++
		if string(m.Value) == "m0" && calls < 3 {
			return errors.New("transient")
		}
		return nil
	})
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, 4, calls)
	require.Equal(t, kafkaconsume.Stats{Messages: 2, Retries: 2, HandlerErrors: 2, Committed: 2}, c.Stats())
	s := byOffset(rec.Spans())[0]
	require.Equal(t, tracer.StatusUnset, s.Status.Code)
	require.Equal(t, int64(3), s.Attributes["messaging.kafka.attempts"])
}

// TestCancelDuringRetryCommitsNothing: a shutdown while a message is being
// retried neither skips nor dead-letters it.
func TestCancelDuringRetryCommitsNothing(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, _ := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "m0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first := rawReader(t, b.Addr(), topic, "cancel")
	c := kafkaconsume.New(first,
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)), kafkaconsume.WithRetry(5, time.Hour))
	err := c.Consume(ctx, func(context.Context, kafka.Message) error { cancel(); return errPoison })
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, errPoison)
	require.Equal(t, kafkaconsume.Stats{Messages: 1, HandlerErrors: 1}, c.Stats())
	require.NoError(t, first.Close()) // leave the group at once
	require.Equal(t, "m0", nextValue(t, b.Addr(), topic, "cancel"))
}

// TestDeadLetter: after the last attempt the message goes to the
// dead-letter topic with the consumer's trace context and X-DLQ-* headers,
// is committed, and consumption goes on.
func TestDeadLetter(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	require.NoError(t, b.CreateTopic(topic+"-dlq", 1))
	tr, rec := e2e.NewRecorded(t)
	w := rawWriter(b.Addr(), topic)
	require.NoError(t, w.WriteMessages(ctxTimeout(t, 10*time.Second), kafka.Message{Key: []byte("k"), Value: []byte("m0")}, kafka.Message{Value: []byte("m1")}))
	closeWriter(w)
	dlq := rawWriter(b.Addr(), topic+"-dlq")
	defer closeWriter(dlq)

	first := rawReader(t, b.Addr(), topic, "dl")
	c := kafkaconsume.New(&limited{r: first, n: 2},
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)), kafkaconsume.WithRetry(2, time.Millisecond),
		kafkaconsume.WithDeadLetter(dlq), kafkaconsume.WithOnFailure(kafkaconsume.Stop),
		kafkaconsume.WithLogger((&logBuffer{}).logger()))
	var procFlow string
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(ctx context.Context, m kafka.Message) error {
		if string(m.Value) == "m0" {
			procFlow = flowid.FromContext(ctx)
			return errors.New("poison\nmessage")
		}
		return nil
	})
	require.ErrorIs(t, err, io.EOF, "a dead-lettered message is done with, even with Stop")
	require.Equal(t, kafkaconsume.Stats{Messages: 2, Retries: 1, HandlerErrors: 2, Failed: 1, DeadLettered: 1, Committed: 2}, c.Stats())

	r := rawReader(t, b.Addr(), topic+"-dlq", "")
	got, err := r.FetchMessage(ctxTimeout(t, 10*time.Second))
	require.NoError(t, err)
	require.Equal(t, "m0", string(got.Value))
	require.Equal(t, "k", string(got.Key))
	require.Equal(t, []string{topic}, header(got, kafkaconsume.HeaderDLQTopic))
	require.Equal(t, []string{"0"}, header(got, kafkaconsume.HeaderDLQOffset))
	require.Equal(t, []string{"0"}, header(got, kafkaconsume.HeaderDLQPartition))
	require.Equal(t, []string{"poison\nmessage"}, header(got, kafkaconsume.HeaderDLQError))
	require.Equal(t, []string{procFlow}, header(got, flowid.Header))
	tp := header(got, "traceparent")
	require.Len(t, tp, 1)

	dead := byOffset(rec.Spans())[0]
	require.Equal(t, true, dead.Attributes["messaging.kafka.dead_lettered"])
	require.Equal(t, dead.SpanID, tp[0][36:52])
	require.Equal(t, tracer.StatusError, dead.Status.Code)

	produce(t, b.Addr(), topic, "m2")
	require.NoError(t, first.Close()) // leave the group at once
	require.Equal(t, "m2", nextValue(t, b.Addr(), topic, "dl"))
}

// TestDeadLetterWriteFails: a dead-letter topic that cannot be written is
// not a bad message: the consumer stops without committing.
func TestDeadLetterWriteFails(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, _ := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "m0")
	dlq := rawWriter(b.Addr(), topic+"-dlq")
	defer closeWriter(dlq)
	require.NoError(t, dlq.Close()) // writes now fail
	first := rawReader(t, b.Addr(), topic, "dlfail")
	c := kafkaconsume.New(first,
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)), kafkaconsume.WithRetry(1, 0),
		kafkaconsume.WithDeadLetter(dlq), kafkaconsume.WithLogger((&logBuffer{}).logger()))
	err := c.Consume(ctxTimeout(t, 20*time.Second), func(context.Context, kafka.Message) error { return errPoison })
	require.ErrorIs(t, err, errPoison)
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.Equal(t, uint64(0), c.Stats().Committed)
	require.NoError(t, first.Close()) // leave the group at once
	require.Equal(t, "m0", nextValue(t, b.Addr(), topic, "dlfail"))
}

// TestConsumerGroupTwoReaders: two members of one group share two
// partitions; every message is handled once and traced.
func TestConsumerGroupTwoReaders(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 2)
	tr, rec := e2e.NewRecorded(t)
	const group, n = "g2", 20
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	consumers := make([]*kafkaconsume.Consumer, 2)
	for i := range consumers {
		consumers[i] = kafkaconsume.New(rawReader(t, b.Addr(), topic, group), kafkaconsume.WithTracing(tracekafka.WithTracer(tr)))
		wg.Go(func() {
			_ = consumers[i].Consume(ctx, func(ctx context.Context, m kafka.Message) error {
				mu.Lock()
				defer mu.Unlock()
				seen[string(m.Value)]++
				if len(seen) == n {
					cancel()
				}
				return nil
			})
		})
	}
	_, err := b.Cluster().WaitGroupStable(ctx, group, 2)
	require.NoError(t, err)
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprintf("m%d", i)
	}
	produce(t, b.Addr(), topic, vals...)
	wg.Wait()
	require.Len(t, seen, n)
	for v, c := range seen {
		require.Equal(t, 1, c, "message %s handled %d times", v, c)
	}
	require.Positive(t, consumers[0].Stats().Messages)
	require.Positive(t, consumers[1].Stats().Messages)
	require.Equal(t, uint64(n), consumers[0].Stats().Messages+consumers[1].Stats().Messages)
	procs := 0
	for _, s := range rec.Spans() {
		if s.Kind == tracer.KindConsumer {
			procs++
			require.Equal(t, group, s.Attributes["messaging.consumer.group.name"])
		}
	}
	require.Equal(t, n, procs)
}

// TestConsumeBatchLinks: a batch spanning many traces gets one span with
// one link per message, capped, the overflow counted.
func TestConsumeBatchLinks(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	producer, prec := e2e.NewRecorded(t)
	consumer, rec := e2e.NewRecorded(t)
	w := tracekafka.NewWriter(rawWriter(b.Addr(), topic), tracekafka.WithTracer(producer))
	defer func() { _ = w.Close() }()
	const n, maxLinks = 40, 25
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: fmt.Appendf(nil, "m%d", i)}
	}
	require.NoError(t, w.WriteMessages(ctxTimeout(t, 10*time.Second), msgs...)) // one trace per message
	sendSpans, err := prec.WaitForSpans(ctxTimeout(t, 10*time.Second), n)
	require.NoError(t, err)

	c := kafkaconsume.New(&limited{r: rawReader(t, b.Addr(), topic, "batch"), n: n},
		kafkaconsume.WithTracing(tracekafka.WithTracer(consumer), tracekafka.WithMaxLinks(maxLinks)))
	total := 0
	err = c.ConsumeBatch(ctxTimeout(t, 20*time.Second), n, 2*time.Second, func(ctx context.Context, batch []kafka.Message) error {
		require.NotNil(t, opentracing.SpanFromContext(ctx))
		total += len(batch)
		return nil
	})
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, n, total)
	require.Equal(t, uint64(n), c.Stats().Committed)

	sends := map[string]string{}
	for _, s := range sendSpans {
		sends[s.SpanID] = s.TraceID
	}
	links, dropped := 0, int64(0)
	for _, s := range rec.Spans() {
		require.Equal(t, "process "+topic, s.Name)
		require.LessOrEqual(t, len(s.Links), maxLinks)
		for _, l := range s.Links {
			require.Equal(t, sends[l.SpanID], l.TraceID)
		}
		links += len(s.Links)
		if d, ok := s.Attributes["messaging.kafka.batch.links_dropped"]; ok {
			dropped += d.(int64)
		}
	}
	require.Equal(t, int64(n), int64(links)+dropped)
}

// TestBatchPoisonSkipped: a batch whose handler always fails is skipped
// as a whole and the next batch is handled.
func TestBatchPoisonSkipped(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)
	produce(t, b.Addr(), topic, "bad", "good")
	c := kafkaconsume.New(&limited{r: rawReader(t, b.Addr(), topic, "bp"), n: 2},
		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)), kafkaconsume.WithRetry(2, 0),
		kafkaconsume.WithLogger((&logBuffer{}).logger()))
	var got []string
	err := c.ConsumeBatch(ctxTimeout(t, 20*time.Second), 1, time.Second, func(_ context.Context, batch []kafka.Message) error {
		got = append(got, strings.Join(values(batch), ","))
		if batch[0].Value[0] == 'b' {
			return errPoison
		}
		return nil
	})
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, []string{"bad", "bad", "good"}, got)
	require.Equal(t, uint64(1), c.Stats().Skipped)
	require.Equal(t, 2, rec.Len())
}
