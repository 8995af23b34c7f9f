package tracekafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// MessageReader is what Consume and ConsumeBatch need of a reader;
// *kafka.Reader implements it. A *Reader passed to them is unwrapped (its
// options apply first), so that messages do not get receive spans too.
type MessageReader interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

var (
	_ MessageReader = (*kafka.Reader)(nil)
	_ MessageReader = (*Reader)(nil)
)

// Reader is a traced *kafka.Reader: every message it returns gets a
// consumer span "receive <topic>" that follows from (or, with WithLinkOnly,
// links to) the producer's span and is finished before the message is
// returned. For a span around the processing of each message, use Consume
// or StartSpanFromMessage.
type Reader struct {
	r     *kafka.Reader
	opts  []Option
	cfg   *config
	group string
}

// NewReader wraps r.
func NewReader(r *kafka.Reader, opts ...Option) *Reader {
	return &Reader{r: r, opts: opts, cfg: newConfig(opts), group: r.Config().GroupID}
}

// Unwrap returns the wrapped reader.
func (r *Reader) Unwrap() *kafka.Reader { return r.r }

// FetchMessage is kafka.Reader.FetchMessage with a receive span.
func (r *Reader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	m, err := r.r.FetchMessage(ctx)
	if err == nil {
		r.receive(ctx, &m)
	}
	return m, err
}

// ReadMessage is kafka.Reader.ReadMessage (which commits when the reader
// has a GroupID) with a receive span.
func (r *Reader) ReadMessage(ctx context.Context) (kafka.Message, error) {
	m, err := r.r.ReadMessage(ctx)
	if err == nil {
		r.receive(ctx, &m)
	}
	return m, err
}

func (r *Reader) receive(ctx context.Context, m *kafka.Message) {
	span, _ := r.cfg.startConsumer(ctx, m, "receive", r.group)
	span.Finish()
}

// CommitMessages is kafka.Reader.CommitMessages.
func (r *Reader) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	return r.r.CommitMessages(ctx, msgs...)
}

// Close closes the reader.
func (r *Reader) Close() error { return r.r.Close() }

// Handler processes one message. ctx holds the consumer span
// (opentracing.SpanFromContext) and the flow id (flowid.FromContext).
type Handler func(ctx context.Context, m kafka.Message) error

// BatchHandler processes a batch under one span.
type BatchHandler func(ctx context.Context, msgs []kafka.Message) error

// consumer is the state Consume and ConsumeBatch share.
type consumer struct {
	cfg    *config
	r      MessageReader
	group  string
	commit bool
}

func newConsumer(r MessageReader, opts []Option) *consumer {
	if tr, ok := r.(*Reader); ok {
		opts = append(append([]Option(nil), tr.opts...), opts...)
		r = tr.r
	}
	c := &consumer{cfg: newConfig(opts), r: r, commit: true}
	if kr, ok := r.(*kafka.Reader); ok {
		c.group = kr.Config().GroupID
		// kafka-go refuses commits without a GroupID; such a reader keeps
		// no offsets, so there is nothing to commit.
		c.commit = c.group != ""
	}
	return c
}

// Consume fetches messages from r and runs h for each under a consumer span
// "process <topic>" that follows from the producer's span (WithLinkOnly:
// links to it), with the span and flow id in h's context. It commits a
// message only after h returned nil for it (readers without a GroupID keep
// no offsets and are not committed).
//
// When h fails it is retried (WithRetry: 3 attempts, 100ms doubling
// backoff); after the last attempt the message goes to the dead-letter
// writer (WithDeadLetter) and is committed, or, without one, Consume
// returns h's error without committing, so that the message is delivered
// again after a restart. Consume never commits past a failed offset.
//
// A panic in h marks and finishes the span and is re-raised. Consume returns
// when ctx ends (ctx's error), when r fails (r's error, io.EOF once r is
// closed), when a commit fails, or as above.
func Consume(ctx context.Context, r MessageReader, h Handler, opts ...Option) error {
	c := newConsumer(r, opts)
	for {
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			return err
		}
		if err := c.process(ctx, m, h); err != nil {
			return err
		}
	}
}

func (c *consumer) process(ctx context.Context, m kafka.Message, h Handler) error {
	span, hctx := c.cfg.startConsumer(ctx, &m, "process", c.group)
	err := c.retry(ctx, span, func() error { return h(hctx, m) })
	if err != nil {
		markError(span, err)
		if c.cfg.deadLetter == nil {
			span.Finish()
			return err
		}
		if dlErr := c.deadLetter(ctx, span, err, m); dlErr != nil {
			span.Finish()
			return errors.Join(err, dlErr)
		}
	}
	if c.commit {
		if cerr := c.r.CommitMessages(ctx, m); cerr != nil {
			markError(span, cerr)
			span.Finish()
			return cerr
		}
	}
	span.Finish()
	return nil
}

// retry runs call up to the configured attempts with doubling backoff.
func (c *consumer) retry(ctx context.Context, span opentracing.Span, call func() error) error {
	backoff := c.cfg.backoff
	attempt := 1
	for ; ; attempt++ {
		err := guard(span, call)
		if err == nil {
			break
		}
		stats.handlerErrs.Add(1)
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
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, MaxBackoff)
	}
	setAttempts(span, attempt)
	return nil
}

func setAttempts(span opentracing.Span, n int) {
	if n > 1 {
		semconv.MessagingKafkaAttempts.Set(span, n)
	}
}

// guard runs call; a panic marks and finishes the span and is re-raised.
func guard(span opentracing.Span, call func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			stats.handlerErrs.Add(1)
			semconv.Error.Set(span, true)
			span.LogFields(semconv.Event.Field("error"), semconv.Message.Field(fmt.Sprint("panic: ", p)))
			span.Finish()
			panic(p)
		}
	}()
	return call()
}

// maxDLQErrorLen caps the X-DLQ-Error header.
const maxDLQErrorLen = 1024

// deadLetter writes copies of msgs to the dead-letter writer, with span's
// trace context and the X-DLQ-* headers.
func (c *consumer) deadLetter(ctx context.Context, span opentracing.Span, cause error, msgs ...kafka.Message) error {
	tr := c.cfg.tracerOrGlobal()
	_, isFlowtrace := tr.(*tracer.Tracer)
	reason := cause.Error()
	if len(reason) > maxDLQErrorLen {
		reason = reason[:maxDLQErrorLen]
	}
	out := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		d := kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers, Time: m.Time}
		hc := NewHeaderCarrier(&d.Headers)
		_ = tr.Inject(span.Context(), opentracing.TextMap, hc)
		if !isFlowtrace {
			if fid := span.BaggageItem(flowid.BaggageKey); flowid.Valid(fid) {
				hc.Set(flowid.Header, fid)
			}
		}
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
	stats.deadLettered.Add(uint64(len(msgs)))
	semconv.MessagingKafkaDeadLettered.Set(span, true)
	return nil
}

// ConsumeBatch fetches up to maxMessages messages from r, waiting at most
// maxWait after the first, and runs h on them under one consumer span
// ("process <topic>", child of the span in ctx if any) with one link per
// message to its producer's span (at most WithMaxLinks, 128 by default; the
// overflow is counted in the tag messaging.kafka.batch.links_dropped). The
// batch's flow id is that of ctx, else the one all messages share, else a
// new one. After h returns nil the batch is committed; on error, retries and
// the dead-letter writer apply to the whole batch as in Consume.
//
// Links are recorded by flowtrace's tracer; other tracers ignore them.
func ConsumeBatch(ctx context.Context, r MessageReader, maxMessages int, maxWait time.Duration, h BatchHandler, opts ...Option) error {
	if maxMessages < 1 {
		maxMessages = 1
	}
	c := newConsumer(r, opts)
	for {
		batch, err := c.fetchBatch(ctx, maxMessages, maxWait)
		if err != nil {
			return err
		}
		if err := c.processBatch(ctx, batch, h); err != nil {
			return err
		}
	}
}

func (c *consumer) fetchBatch(ctx context.Context, max int, wait time.Duration) ([]kafka.Message, error) {
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := make([]kafka.Message, 1, min(max, 1024))
	batch[0] = m
	if max == 1 {
		return batch, nil
	}
	bctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for len(batch) < max {
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

func (c *consumer) processBatch(ctx context.Context, batch []kafka.Message, h BatchHandler) error {
	tr := c.cfg.tracerOrGlobal()
	_, isFlowtrace := tr.(*tracer.Tracer)
	opts := make([]opentracing.StartSpanOption, 0, min(len(batch), c.cfg.maxLinks)+2)
	opts = append(opts, ext.SpanKindConsumer)
	if sp := opentracing.SpanFromContext(ctx); sp != nil {
		opts = append(opts, opentracing.ChildOf(sp.Context()))
	}
	topic := batch[0].Topic
	common := ""
	sameFlow := true
	links, dropped := 0, 0
	for i := range batch {
		m := &batch[i]
		if m.Topic != topic {
			topic = ""
		}
		ex, carrier := extract(tr, m)
		if sameFlow {
			v := carrier.Values(flowid.Header)
			switch {
			case len(v) != 1 || !flowid.Valid(v[0]):
				sameFlow = false
			case common == "":
				common = v[0]
			case common != v[0]:
				sameFlow = false
			}
		}
		if !ex.valid {
			continue
		}
		if links >= c.cfg.maxLinks {
			dropped++
			continue
		}
		links++
		opts = append(opts, tracer.LinkTo(ex.sc))
	}
	span := tr.StartSpan(spanName(semconv.MessagingOperationProcess, topic), opts...)
	commonTags(span, semconv.MessagingOperationProcess, topic)
	semconv.MessagingBatchMessageCount.Set(span, len(batch))
	if c.group != "" {
		semconv.MessagingConsumerGroupName.Set(span, c.group)
	}
	if dropped > 0 {
		stats.linksDropped.Add(uint64(dropped))
		semconv.MessagingKafkaBatchLinksDropped.Set(span, dropped)
	}
	fid := flowid.FromContext(ctx)
	if !flowid.Valid(fid) {
		fid = common
		if !sameFlow || !flowid.Valid(fid) {
			fid = flowid.New()
		}
	}
	setFlowID(span, fid, isFlowtrace)
	hctx := flowid.ContextWith(opentracing.ContextWithSpan(ctx, span), fid)

	err := c.retry(ctx, span, func() error { return h(hctx, batch) })
	if err != nil {
		markError(span, err)
		if c.cfg.deadLetter == nil {
			span.Finish()
			return err
		}
		if dlErr := c.deadLetter(ctx, span, err, batch...); dlErr != nil {
			span.Finish()
			return errors.Join(err, dlErr)
		}
	}
	if c.commit {
		if cerr := c.r.CommitMessages(ctx, batch...); cerr != nil {
			markError(span, cerr)
			span.Finish()
			return cerr
		}
	}
	span.Finish()
	return nil
}
