package tracekafka

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
)

// Writer is a traced *kafka.Writer: a producer span per message, trace
// context and flow id injected into a copy of each message's headers.
type Writer struct {
	w        *kafka.Writer
	cfg      *config
	sendName string // "send <w.Topic>", precomputed
}

// NewWriter wraps w. It installs its own w.Completion, which finishes each
// message's span when kafka-go reports the message written (with its
// partition and offset) or failed, and then calls the Completion w had
// before: call NewWriter before the first write and do not change
// w.Completion afterwards. Inside that Completion, messages carry the
// WriterData the caller set and the headers that were sent.
//
// Give w its own &kafka.Transport{} when goroutine leaks matter (goleak):
// Close closes its idle connections.
func NewWriter(w *kafka.Writer, opts ...Option) *Writer {
	tw := &Writer{w: w, cfg: newConfig(opts), sendName: spanName("send", w.Topic)}
	user := w.Completion
	w.Completion = func(msgs []kafka.Message, err error) {
		for i := range msgs {
			if p, ok := msgs[i].WriterData.(*pending); ok {
				// With RequireNone (kafka-go's default) the broker does
				// not answer: the partition is known, the offset is not.
				p.finish(&msgs[i], err, err == nil, w.RequiredAcks != kafka.RequireNone)
				msgs[i].WriterData = p.user
			}
		}
		if user != nil {
			user(msgs, err)
		}
	}
	return tw
}

// Unwrap returns the wrapped writer.
func (w *Writer) Unwrap() *kafka.Writer { return w.w }

// Close flushes pending asynchronous writes (their spans finish), closes
// the writer and, when it has a *kafka.Transport, its idle connections.
func (w *Writer) Close() error {
	err := w.w.Close()
	if t, ok := w.w.Transport.(*kafka.Transport); ok && t != nil {
		t.CloseIdleConnections()
	}
	return err
}

// injectedBytes is the arena's room per message for injected values: a
// traceparent (55 bytes), a flow id (22) and its baggage member (30);
// larger values are allocated on their own.
const injectedBytes = 128

// pending is the span of one message in flight.
type pending struct {
	span opentracing.Span
	em   stability.Emitter
	user any // the caller's WriterData
	done atomic.Bool
}

// finish finishes the span once; written says whether m holds the
// partition, acked whether it holds the broker's offset.
func (p *pending) finish(m *kafka.Message, err error, written, acked bool) {
	if !p.done.CompareAndSwap(false, true) {
		return
	}
	if written && m != nil {
		p.em.Set(p.span, semconv.MessagingKafkaPartition.Key(), m.Partition)
		if acked {
			semconv.MessagingKafkaOffset.Set(p.span, int(m.Offset))
		}
	}
	if err != nil {
		instr.MarkError(p.span, err.Error())
	}
	p.span.Finish()
}

// WriteMessages starts a producer span per message ("send <topic>", child
// of the span in ctx), injects the span's trace context and the flow id
// into a copy of each message's headers, and writes the copies. The
// caller's messages and their Headers slices are not modified. The flow id
// follows package middleware's outbound rule.
//
// Spans finish when kafka-go acknowledges or fails each message: within
// this call for a synchronous writer (per-message errors taken from
// kafka.WriteErrors), from the completion callback for an asynchronous one.
// Errors are returned as kafka-go returned them.
func (w *Writer) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if len(msgs) == 0 {
		return w.w.WriteMessages(ctx)
	}
	e := &w.cfg.engine
	tr := e.TracerFor()
	ob := instr.Outbound{Kind: instr.KindProducer}

	out := make([]kafka.Message, len(msgs))
	copy(out, msgs)
	pend := make([]pending, len(msgs))
	c := new(HeaderCarrier) // the batch's, reset for each message
	// One arena for the batch: the copied header slices and the injected
	// values of every message, instead of a few allocations per message.
	nh := 0
	for i := range msgs {
		nh += len(msgs[i].Headers) + 4
	}
	a := &arena{hdrs: make([]kafka.Header, 0, nh), b: make([]byte, 0, len(msgs)*injectedBytes), vals: make([]string, 0, nh)}
	for i := range out {
		m := &out[i]
		topic := m.Topic
		ob.Name = w.sendName
		if topic == "" {
			topic = w.w.Topic
		} else {
			ob.Name = spanName("send", topic)
		}
		if w.cfg.critical != nil {
			ob.Critical = func() string { return w.cfg.critical(*m) }
		}
		span := e.StartOutbound(ctx, tr, &ob)
		w.cfg.commonTags(span, stability.Producer, semconv.MessagingOperationPublish, topic)
		w.cfg.messageTags(span, m)

		*c = HeaderCarrier{h: &m.Headers}
		c.use(a)
		e.Inject(ctx, tr, span, c, c)
		pend[i] = pending{span: span, em: w.cfg.tags(stability.Producer), user: m.WriterData}
		m.WriterData = &pend[i]
	}

	err := w.w.WriteMessages(ctx, out...)
	if w.w.Async && err == nil {
		return nil // the completion callback finishes the spans
	}
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(pend) {
		werrs = nil
	}
	for i := range pend {
		e := err
		if werrs != nil {
			e = werrs[i]
		}
		pend[i].finish(nil, e, false, false)
	}
	return err
}
