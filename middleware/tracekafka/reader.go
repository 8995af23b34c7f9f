package tracekafka

import (
	"context"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
	"github.com/flowtrace/flowtrace/tracer"
)

// MessageReader is what a consume loop needs of a reader; *kafka.Reader
// and *Reader implement it. Package kafkaconsume unwraps a *Reader (its
// Options apply first), so that messages do not get receive spans too.
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
// returned. For a span around the processing of each message, use
// StartSpanFromMessage, or package kafkaconsume, which runs handlers with
// a consumption policy (retries, dead letters, commits) on these hooks.
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
	return r.receive(ctx, m, err)
}

// ReadMessage is kafka.Reader.ReadMessage (which commits when the reader
// has a GroupID) with a receive span.
func (r *Reader) ReadMessage(ctx context.Context) (kafka.Message, error) {
	m, err := r.r.ReadMessage(ctx)
	return r.receive(ctx, m, err)
}

// receive gives a fetched message (err == nil) its receive span.
func (r *Reader) receive(ctx context.Context, m kafka.Message, err error) (kafka.Message, error) {
	if err == nil {
		span, _ := r.cfg.startConsumer(ctx, &m, "receive", r.group)
		span.Finish()
	}
	return m, err
}

// CommitMessages is kafka.Reader.CommitMessages.
func (r *Reader) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	return r.r.CommitMessages(ctx, msgs...)
}

// Close closes the reader.
func (r *Reader) Close() error { return r.r.Close() }

// Options returns the options r was made with, for code that unwraps a
// Reader and starts spans itself (package kafkaconsume does).
func (r *Reader) Options() []Option { return append([]Option(nil), r.opts...) }

// InjectMessage writes span's trace context and flow id into m's headers
// (on a copy of the Headers slice: a caller's slice shared with other
// messages is never changed), replacing any trace headers m had. It is the
// hook for code that re-publishes a consumed message under its consumer
// span, such as a dead-letter writer. Only WithTracer applies.
func InjectMessage(span opentracing.Span, m *kafka.Message, opts ...Option) {
	tr := newConfig(opts).engine.TracerFor()
	hc := NewHeaderCarrier(&m.Headers)
	_ = tr.Inject(span.Context(), opentracing.TextMap, hc)
	// Whatever the tracer's propagators, as the engine's Inject does.
	if fid := span.BaggageItem(flowid.BaggageKey); flowid.Valid(fid) {
		hc.Set(flowid.Header, fid)
	}
}

// StartBatchSpan starts one consumer span "process <topic>" for a batch
// (child of the span in ctx if any) with one link per message to its
// producer's span (at most WithMaxLinks, 128 by default; the overflow is
// counted in the tag messaging.kafka.batch.links_dropped), and returns it
// with a context holding the span and the batch's flow id: that of ctx,
// else the one all messages share, else a new one. The caller finishes the
// span. Links are recorded by flowtrace's tracer; other tracers ignore
// them. WithTracer, WithMaxLinks and WithConsumerGroup apply.
func StartBatchSpan(ctx context.Context, batch []kafka.Message, opts ...Option) (opentracing.Span, context.Context) {
	return newConfig(opts).startBatch(ctx, batch)
}

func (c *config) startBatch(ctx context.Context, batch []kafka.Message) (opentracing.Span, context.Context) {
	tr := c.engine.TracerFor()
	opts := make([]opentracing.StartSpanOption, 0, min(len(batch), c.maxLinks)+2)
	opts = append(opts, instr.KindConsumer)
	if sp := opentracing.SpanFromContext(ctx); sp != nil {
		opts = append(opts, opentracing.ChildOf(sp.Context()))
	}
	topic := ""
	if len(batch) > 0 {
		topic = batch[0].Topic
	}
	common := ""
	sameFlow := !c.engine.Public // a public consumer trusts no incoming flow id
	links, dropped := 0, 0
	for i := range batch {
		m := &batch[i]
		if m.Topic != topic {
			topic = ""
		}
		sc, valid, carrier := c.extract(tr, m)
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
		carrier.release()
		if !valid {
			continue
		}
		if links >= c.maxLinks {
			dropped++
			continue
		}
		links++
		opts = append(opts, tracer.LinkTo(sc))
	}
	span := tr.StartSpan(spanName(semconv.MessagingOperationProcess, topic), opts...)
	c.commonTags(span, stability.Consumer, semconv.MessagingOperationProcess, topic)
	semconv.MessagingBatchMessageCount.Set(span, len(batch))
	if c.group != "" {
		semconv.MessagingConsumerGroupName.Set(span, c.group)
	}
	if dropped > 0 {
		instr.Counters(tr).LinksDropped.Add(uint64(dropped))
		semconv.MessagingKafkaBatchLinksDropped.Set(span, dropped)
	}
	var carried []string // the flow id all messages share, if any
	if sameFlow && common != "" {
		carried = []string{common}
	}
	fid := instr.Outgoing(flowid.FromContext(ctx), "", carried)
	instr.SetFlowID(tr, span, fid)
	instr.TagFromBaggage(span)
	return span, flowid.ContextWith(opentracing.ContextWithSpan(ctx, span), fid)
}
