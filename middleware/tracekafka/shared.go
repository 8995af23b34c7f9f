package tracekafka

import (
	"context"
	"strings"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
	"github.com/flowtrace/flowtrace/tracer"
)

// HugeHeaderBytes is the header value size from which a consumed message
// counts as carrying a huge header. Such headers are left to the
// propagators, which reject oversized values.
const HugeHeaderBytes = 8 << 10

// Stats counts what the consumer side saw. It is tracer.EdgeStats: the
// counts are kept per tracer (flowtrace's Tracing.Stats().Edge), not per
// process; with another tracer they are not kept.
type Stats = tracer.EdgeStats

// headerInfo is what one pass over a consumed message's headers found.
type headerInfo struct {
	traceHeader bool // some trace context header is present
	dup         bool
	huge        bool
	foreign     bool
}

// traceKeys are the trace-related header names, lower case; bit i of a set
// of them stands for traceKeys[i]. The first four are flowtrace's formats',
// the others foreign.
var traceKeys = [...]string{
	"traceparent", "tracestate", "baggage", "x-flow-id",
	"uber-trace-id", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled",
	"ot-tracer-traceid", "ot-tracer-spanid",
}

// traceIDKeys are the traceKeys that carry a trace id: traceparent,
// uber-trace-id, b3, x-b3-traceid and ot-tracer-traceid.
const traceIDKeys = 1<<0 | 1<<4 | 1<<5 | 1<<6 | 1<<9

func inspect(hs []kafka.Header) headerInfo {
	var info headerInfo
	var seen uint32
	for _, h := range hs {
		if len(h.Value) >= HugeHeaderBytes || len(h.Key) >= HugeHeaderBytes {
			info.huge = true
		}
		for i, k := range traceKeys {
			if strings.EqualFold(h.Key, k) {
				info.dup = info.dup || seen&(1<<i) != 0
				seen |= 1 << i
				break
			}
		}
	}
	info.traceHeader, info.foreign = seen&traceIDKeys != 0, seen>>4 != 0
	return info
}

// extract reads m's producer context (nil when none), says whether it holds
// a trace (not only baggage), counts what it found; the caller releases carrier.
func (c *config) extract(tr opentracing.Tracer, m *kafka.Message) (sc opentracing.SpanContext, valid bool, carrier *HeaderCarrier) {
	carrier = readers.Get().(*HeaderCarrier)
	carrier.own, carrier.h = m.Headers, &carrier.own
	info := inspect(m.Headers)
	sc = c.engine.Extract(tr, carrier)
	valid = instr.ValidContext(sc)
	n := instr.Counters(tr)
	n.Messages.Add(1)
	switch {
	case !info.traceHeader && !valid:
		n.NoTraceContext.Add(1)
	case !valid:
		n.InvalidContext.Add(1)
	}
	if info.dup {
		n.DuplicateHeaders.Add(1)
	}
	if info.huge {
		n.HugeHeaders.Add(1)
	}
	if info.foreign {
		n.ForeignHeaders.Add(1)
	}
	return sc, valid, carrier
}

// tags returns the emitter of producer or consumer spans' tags: legacy
// names, the messaging switch's names or both (OTEL_SEMCONV_STABILITY_OPT_IN;
// OpenTelemetry's messaging conventions are Development, see package
// semconv/stability).
func (c *config) tags(k stability.Kind) stability.Emitter {
	return c.engine.Semconv.Emitter(stability.Messaging, k)
}

// commonTags sets the tags every span of the package has.
func (c *config) commonTags(span opentracing.Span, k stability.Kind, op, topic string) {
	em := c.tags(k)
	semconv.MessagingSystem.Set(span, "kafka")
	em.Set(span, semconv.MessagingOperation.Key(), opTag(op))
	if topic != "" {
		// semconv.MessagingDestinationName.Set with the value boxed once
		// per topic (the key is the same in every vocabulary).
		span.SetTag(semconv.MessagingDestinationName.Key(), topicOf(topic).tag)
	}
}

// opTag returns op as a tag value; the package's operations come back as
// constants, whose interface values cost no allocation.
func opTag(op string) any {
	switch op {
	case semconv.MessagingOperationPublish:
		return semconv.MessagingOperationPublish
	case semconv.MessagingOperationProcess:
		return semconv.MessagingOperationProcess
	case semconv.MessagingOperationReceive:
		return semconv.MessagingOperationReceive
	}
	return op
}

// topicNames are the span names of one topic and the topic as a tag value,
// made once (instr.Cache): a concatenation and an interface conversion per
// message otherwise.
type topicNames struct {
	tag                    any
	send, receive, process string
}

var topicCache instr.Cache[*topicNames]

// topicOf returns the names of a non-empty topic.
func topicOf(topic string) *topicNames { return topicCache.Get(topic, newTopicNames) }

func newTopicNames(topic string) *topicNames {
	return &topicNames{tag: topic, send: "send " + topic, receive: "receive " + topic, process: "process " + topic}
}

// messageTags sets the per-message tags.
func (c *config) messageTags(span opentracing.Span, m *kafka.Message) {
	semconv.MessagingMessageBodySize.Set(span, len(m.Value))
	if c.recordKey && m.Key != nil {
		semconv.MessagingKafkaMessageKey.Set(span, SanitizeKey(m.Key))
	}
}

// MaxKeyTagLen is the longest message key tag, in bytes.
const MaxKeyTagLen = 256

// SanitizeKey returns a form of a message key safe to record: printable
// ASCII kept (backslash doubled), any other byte written as \xNN, cut to
// MaxKeyTagLen bytes ending in "..." when cut.
func SanitizeKey(k []byte) string {
	const hex = "0123456789abcdef"
	const ellipsis = "..."
	full := 0
	for _, c := range k {
		full += escLen(c)
	}
	limit := MaxKeyTagLen
	if full > MaxKeyTagLen {
		limit = MaxKeyTagLen - len(ellipsis)
	}
	b := make([]byte, 0, min(full, MaxKeyTagLen))
	for _, c := range k {
		n := escLen(c)
		if len(b)+n > limit {
			break
		}
		switch n {
		case 1:
			b = append(b, c)
		case 2:
			b = append(b, '\\', '\\')
		default:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0x0f])
		}
	}
	if full > MaxKeyTagLen {
		b = append(b, ellipsis...)
	}
	return string(b)
}

func escLen(c byte) int {
	switch {
	case c == '\\':
		return 2
	case 0x20 <= c && c < 0x7f:
		return 1
	}
	return 4
}

// StartSpanFromMessage starts a consumer span named "process <topic>" for
// m, following from (or, with WithLinkOnly, linked to) the producer's span,
// and returns it with a context holding the span and the flow id. The caller
// finishes the span. Package kafkaconsume does this for each message; use
// it when driving a kafka.Reader by hand. WithTracer, WithLinkOnly,
// WithMessageKey, WithConsumerGroup and the consumer's edge rules
// (WithPublicEndpoint, WithCriticalOperation, WithCriticalSampling,
// WithTrafficSource, WithFilter) apply; a message WithFilter leaves out
// gets a no-op span and a context with only its flow id.
func StartSpanFromMessage(ctx context.Context, m kafka.Message, opts ...Option) (opentracing.Span, context.Context) {
	c := newConfig(opts)
	return c.startConsumer(ctx, &m, "process", c.group)
}

// SpanStarter returns StartSpanFromMessage with opts applied once, for a
// loop that starts a span per message (package kafkaconsume uses it):
// StartSpanFromMessage builds its configuration on every call.
func SpanStarter(opts ...Option) func(ctx context.Context, m kafka.Message) (opentracing.Span, context.Context) {
	c := newConfig(opts)
	return func(ctx context.Context, m kafka.Message) (opentracing.Span, context.Context) {
		return c.startConsumer(ctx, &m, "process", c.group)
	}
}

func (c *config) startConsumer(ctx context.Context, m *kafka.Message, op, group string) (opentracing.Span, context.Context) {
	if c.filter != nil && !c.filter(*m) {
		id := c.engine.Untraced(NewHeaderCarrier(new(m.Headers)).Values(flowid.Header))
		return untraced, flowid.ContextWith(ctx, id)
	}
	tr := c.engine.TracerFor()
	sc, _, carrier := c.extract(tr, m)
	in := instr.Inbound{
		Name:     spanName(op, m.Topic),
		Kind:     instr.KindConsumer,
		Incoming: sc,
		FlowIDs:  carrier.Values(flowid.Header),
		Follows:  true,
		LinkOnly: c.linkOnly,
	}
	if c.critical != nil {
		m := *m // the closure's own copy: m stays on the caller's stack
		in.Critical = func() string { return c.critical(m) }
	}
	if c.traffic != nil {
		m := *m
		in.Traffic = func() string { return c.traffic(m) }
	}
	st := c.engine.StartInbound(ctx, tr, &in)
	carrier.release()
	if st.InvalidFlowID {
		instr.Counters(tr).InvalidFlowID.Add(1)
	}
	span := st.Span
	c.commonTags(span, stability.Consumer, op, m.Topic)
	c.tags(stability.Consumer).Set(span, semconv.MessagingKafkaPartition.Key(), m.Partition)
	semconv.MessagingKafkaOffset.Set(span, int(m.Offset))
	if group != "" {
		semconv.MessagingConsumerGroupName.Set(span, group)
	}
	c.messageTags(span, m)
	return span, st.Ctx
}

// spanName returns "<op> <topic>"; topics are names an operator created,
// so the set stays bounded.
func spanName(op, topic string) string {
	if topic == "" {
		return op
	}
	switch op {
	case "send":
		return topicOf(topic).send
	case "receive":
		return topicOf(topic).receive
	case "process":
		return topicOf(topic).process
	}
	return op + " " + topic
}

// untraced is the span of a message WithFilter leaves out.
var untraced = opentracing.NoopTracer{}.StartSpan("")
