package kafkaconsume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/semconv"
)

// Headers written on dead letters.
const (
	HeaderDLQTopic     = "X-DLQ-Topic"
	HeaderDLQPartition = "X-DLQ-Partition"
	HeaderDLQOffset    = "X-DLQ-Offset"
	HeaderDLQError     = "X-DLQ-Error"
)

// maxDLQErrorLen caps the X-DLQ-Error header and the error in log lines.
const maxDLQErrorLen = 1024

// maxStackLen caps the stack recorded with a PanicError.
const maxStackLen = 8 << 10

// Handler processes one message. ctx holds the consumer span
// (opentracing.SpanFromContext) and the flow id (flowid.FromContext).
type Handler func(ctx context.Context, m kafka.Message) error

// BatchHandler processes a batch under one span.
type BatchHandler func(ctx context.Context, msgs []kafka.Message) error

// PanicError is the error a handler's panic becomes: the consumer recovers
// it, records it on the span (which is finished and exported like any
// other) and treats the message as failed.
type PanicError struct {
	Value any    // what the handler panicked with
	Stack []byte // the handler goroutine's stack, cut to 8 KiB
}

func (e *PanicError) Error() string { return fmt.Sprint("kafkaconsume: handler panicked: ", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Stats are one Consumer's counters since New.
type Stats struct {
	Messages      uint64 // messages fetched and handed to a handler
	Retries       uint64 // handler runs after a failed one
	HandlerErrors uint64 // handler runs that returned an error or panicked
	Panics        uint64 // handler runs that panicked (also in HandlerErrors)
	Failed        uint64 // messages whose last attempt failed
	DeadLettered  uint64 // failed messages written to the dead-letter writer
	Skipped       uint64 // failed messages committed past without a dead letter
	Committed     uint64 // messages committed (handled, dead-lettered or skipped)
	LogSuppressed uint64 // "gave up" log lines left out by the rate limit
}

// Consumer runs handlers over a reader's messages with a consumption
// policy: retries with backoff, then a dead letter or the OnFailure rule,
// and commits only once a message is done with. Each message (or batch)
// gets a consumer span from package tracekafka. A Consumer is used by one
// consume loop at a time; Stats may be read from any goroutine.
type Consumer struct {
	r       tracekafka.MessageReader
	cfg     config
	tracing []tracekafka.Option
	start   func(context.Context, kafka.Message) (opentracing.Span, context.Context)
	one     [1]kafka.Message
	group   string
	commit  bool
	logs    *tokenbucket.Limiter

	messages, retries, handlerErrs, panics          atomic.Uint64
	failed, deadLettered, skipped, committed, quiet atomic.Uint64
}

// New returns a Consumer reading from r. A *tracekafka.Reader is unwrapped
// (its options apply before WithTracing's), so that messages do not get
// receive spans too. For a *kafka.Reader with a GroupID, messages are
// committed; a reader without a GroupID keeps no offsets and nothing is
// committed (kafka-go refuses it).
func New(r tracekafka.MessageReader, opts ...Option) *Consumer {
	cfg := newConfig(opts)
	var tracing []tracekafka.Option
	if tr, ok := r.(*tracekafka.Reader); ok {
		tracing = tr.Options()
		r = tr.Unwrap()
	}
	tracing = append(tracing, cfg.tracing...)
	c := &Consumer{r: r, cfg: cfg, commit: true}
	if kr, ok := r.(*kafka.Reader); ok {
		c.group = kr.Config().GroupID
		c.commit = c.group != ""
	}
	if c.group != "" {
		tracing = append(tracing, tracekafka.WithConsumerGroup(c.group))
	}
	c.tracing = tracing
	c.start = tracekafka.SpanStarter(tracing...)
	c.logs = tokenbucket.NewLimiter(tokenbucket.Rate{PerSecond: 1, Burst: LogBurst}, 1, cfg.now)
	return c
}

// Stats returns the Consumer's counters.
func (c *Consumer) Stats() Stats {
	return Stats{
		Messages:      c.messages.Load(),
		Retries:       c.retries.Load(),
		HandlerErrors: c.handlerErrs.Load(),
		Panics:        c.panics.Load(),
		Failed:        c.failed.Load(),
		DeadLettered:  c.deadLettered.Load(),
		Skipped:       c.skipped.Load(),
		Committed:     c.committed.Load(),
		LogSuppressed: c.quiet.Load(),
	}
}

// Consume fetches messages and runs h for each under a consumer span
// "process <topic>" that follows from the producer's span (WithLinkOnly:
// links to it), with the span and flow id in h's context.
//
// A message is committed once it is done with: h returned nil, or h
// failed its last attempt and the message was dead-lettered or skipped
// (see OnFailure). A panic in h is recovered: the span is marked failed
// with the panic and finished, and the message counts as failed. Consume
// returns when ctx ends (ctx's error; a message being retried is then not
// committed), when the reader fails (its error, io.EOF once it is closed),
// when a commit or a dead-letter write fails, or, with Stop, with the
// error of a message that failed.
func (c *Consumer) Consume(ctx context.Context, h Handler) error {
	for {
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			return err
		}
		c.messages.Add(1)
		span, hctx := c.start(ctx, m)
		// finish's variadic slice would escape (CommitMessages is an
		// interface call): the Consumer's own one-message array serves,
		// as one loop at a time uses a Consumer.
		c.one[0] = m
		err = c.finish(ctx, span, c.run(ctx, span, func() error { return h(hctx, m) }), c.one[:]...)
		c.one[0] = kafka.Message{}
		span.Finish()
		if err != nil {
			return err
		}
	}
}

// ConsumeBatch fetches up to maxMessages messages, waiting at most
// maxWait after the first, and runs h on them under one consumer span
// (tracekafka.StartBatchSpan: a link per message, capped by
// tracekafka.WithMaxLinks). Retries, dead letters, OnFailure and commits
// apply to the whole batch as Consume applies them to a message.
func (c *Consumer) ConsumeBatch(ctx context.Context, maxMessages int, maxWait time.Duration, h BatchHandler) error {
	maxMessages = max(1, maxMessages)
	for {
		batch, err := c.fetchBatch(ctx, maxMessages, maxWait)
		if err != nil {
			return err
		}
		c.messages.Add(uint64(len(batch)))
		span, hctx := tracekafka.StartBatchSpan(ctx, batch, c.tracing...)
		err = c.finish(ctx, span, c.run(ctx, span, func() error { return h(hctx, batch) }), batch...)
		span.Finish()
		if err != nil {
			return err
		}
	}
}

func (c *Consumer) fetchBatch(ctx context.Context, n int, wait time.Duration) ([]kafka.Message, error) {
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := make([]kafka.Message, 1, min(n, 1024))
	batch[0] = m
	if n == 1 {
		return batch, nil
	}
	bctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for len(batch) < n {
		m, err := c.r.FetchMessage(bctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if bctx.Err() != nil {
				break // maxWait reached: handle what we have
			}
			return nil, err
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// errCancelled wraps a handler error that was still failing when ctx ended.
type errCancelled struct{ ctx, last error }

func (e errCancelled) Error() string { return e.ctx.Error() }
func (e errCancelled) Unwrap() []error {
	return []error{e.ctx, e.last}
}

// run calls call up to the configured attempts with doubling backoff and
// returns the last error, or an errCancelled when ctx ended between tries.
func (c *Consumer) run(ctx context.Context, span opentracing.Span, call func() error) error {
	backoff := c.cfg.backoff
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			c.retries.Add(1)
		}
		err := c.guard(span, call)
		if err == nil {
			setAttempts(span, attempt)
			return nil
		}
		c.handlerErrs.Add(1)
		span.LogFields(semconv.Event.Field("handler_error"), semconv.Attempt.Field(attempt), semconv.Message.Field(err.Error()))
		if attempt >= c.cfg.attempts {
			setAttempts(span, attempt)
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			setAttempts(span, attempt)
			return errCancelled{ctx: ctx.Err(), last: err}
		case <-t.C:
		}
		backoff = min(2*backoff, MaxBackoff)
	}
}

func setAttempts(span opentracing.Span, n int) {
	if n > 1 {
		semconv.MessagingKafkaAttempts.Set(span, n)
	}
}

// guard runs call and turns a panic into a *PanicError recorded on span.
func (c *Consumer) guard(span opentracing.Span, call func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.panics.Add(1)
			stack := make([]byte, maxStackLen)
			stack = stack[:runtime.Stack(stack, false)]
			pe := &PanicError{Value: p, Stack: stack}
			span.LogFields(semconv.Event.Field("panic"), semconv.Message.Field(fmt.Sprint(p)))
			err = pe
		}
	}()
	return call()
}

// finish applies the policy to the outcome err of msgs (one message, or a
// batch) and commits when they are done with. It returns what Consume
// should return, nil to go on.
func (c *Consumer) finish(ctx context.Context, span opentracing.Span, err error, msgs ...kafka.Message) error {
	if err != nil {
		instr.MarkError(span, err.Error())
		var cancelled errCancelled
		if errors.As(err, &cancelled) {
			return cancelled.ctx // shutting down: never give up on a message
		}
		c.failed.Add(uint64(len(msgs)))
		action := "stopped"
		switch {
		case c.cfg.deadLetter != nil:
			if dlErr := c.deadLetter(ctx, span, err, msgs...); dlErr != nil {
				c.logGaveUp(msgs, err, "dead letter failed: "+dlErr.Error())
				return errors.Join(err, dlErr)
			}
			action = "dead-lettered"
		case c.cfg.onFailure == Skip:
			c.skipped.Add(uint64(len(msgs)))
			semconv.MessagingKafkaSkipped.Set(span, true)
			action = "skipped"
		}
		c.logGaveUp(msgs, err, action)
		if action == "stopped" {
			return err
		}
	}
	if c.commit {
		if cerr := c.r.CommitMessages(ctx, msgs...); cerr != nil {
			instr.MarkError(span, cerr.Error())
			return cerr
		}
		c.committed.Add(uint64(len(msgs)))
	}
	return nil
}

// logGaveUp writes one rate-limited warning about a failed message (or
// batch: its first message).
func (c *Consumer) logGaveUp(msgs []kafka.Message, err error, action string) {
	if !c.logs.Allow("") {
		c.quiet.Add(1)
		return
	}
	m := msgs[0]
	logger := c.cfg.logger
	if logger == nil {
		logger = tracekafka.Logger(c.tracing...)
	}
	logger.Warn("kafka message failed its last attempt",
		slog.String("topic", m.Topic),
		slog.Int("partition", m.Partition),
		slog.Int64("offset", m.Offset),
		slog.Int("messages", len(msgs)),
		slog.Int("attempts", c.cfg.attempts),
		slog.String("action", action),
		slog.String("error", cut(err.Error(), maxDLQErrorLen)),
		slog.Uint64("suppressed_before", c.quiet.Load()),
	)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// deadLetter writes copies of msgs to the dead-letter writer, with span's
// trace context and the X-DLQ-* headers.
func (c *Consumer) deadLetter(ctx context.Context, span opentracing.Span, cause error, msgs ...kafka.Message) error {
	reason := cut(cause.Error(), maxDLQErrorLen)
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		d := kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers, Time: m.Time}
		tracekafka.InjectMessage(span, &d, c.tracing...)
		hc := tracekafka.NewHeaderCarrier(&d.Headers)
		hc.Set(HeaderDLQTopic, m.Topic)
		hc.Set(HeaderDLQPartition, strconv.Itoa(m.Partition))
		hc.Set(HeaderDLQOffset, strconv.FormatInt(m.Offset, 10))
		hc.Set(HeaderDLQError, reason)
		out[i] = d
	}
	if err := c.cfg.deadLetter.WriteMessages(ctx, out...); err != nil {
		span.LogFields(semconv.Event.Field("error"), semconv.Message.Field("dead letter: "+err.Error()))
		return err
	}
	c.deadLettered.Add(uint64(len(msgs)))
	semconv.MessagingKafkaDeadLettered.Set(span, true)
	return nil
}
