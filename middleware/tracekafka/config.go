package tracekafka

import (
	"log/slog"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// Option configures NewWriter, NewReader and the consumer hooks
// (StartSpanFromMessage, StartBatchSpan, InjectMessage). One option type
// serves producer and consumer; an option that only makes sense on one side
// says so and is ignored on the other. A nil function, tracer or logger
// given to an option is ignored: the default stays.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultMaxLinks caps the links of a StartBatchSpan span.
const DefaultMaxLinks = 128

type config struct {
	// engine holds the tracer (nil: opentracing.GlobalTracer() per use).
	engine    instr.Engine
	recordKey bool
	linkOnly  bool
	maxLinks  int
	group     string
	// The consumer's edge rules (see WithFilter, WithCriticalOperation,
	// WithTrafficSource); nil when not given.
	filter   func(m kafka.Message) bool
	critical func(m kafka.Message) string
	traffic  func(m kafka.Message) string
}

func newConfig(opts []Option) *config {
	c := &config{engine: instr.Engine{Format: opentracing.TextMap, FlowKey: flowid.Header}, maxLinks: DefaultMaxLinks}
	instr.Configure(&c.engine, opts, func(o Option) { o.apply(c) }, &c.traffic, DefaultTrafficSource)
	return c
}

// WithPublicEndpoint marks a consumer as a trust boundary (consumer only:
// StartSpanFromMessage and what drives it, such as package kafkaconsume),
// for topics that outside producers write to, as
// tracehttp.WithPublicEndpoint does for a request: see package middleware.
func WithPublicEndpoint() Option {
	return optionFunc(func(c *config) { c.engine.Public = true })
}

// WithCriticalOperation names the critical user operation a message belongs
// to, as tracehttp.WithCriticalOperation does for a request: on the
// consumer for each message, on the Writer for messages whose context
// carries none yet.
func WithCriticalOperation(f func(m kafka.Message) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.critical, f) })
}

// WithCriticalSampling caps the messages of each critical operation that
// are forced into sampling at perSecond, as tracehttp.WithCriticalSampling
// does. Default, or perSecond not positive: no cap.
func WithCriticalSampling(perSecond float64) Option {
	return optionFunc(func(c *config) { c.engine.SetCriticalSampling(perSecond) })
}

// TrafficSourceHeader is the message header [DefaultTrafficSource] reads.
const TrafficSourceHeader = "X-Traffic-Source"

// DefaultTrafficSource is the traffic-source rule of a public consumer
// without [WithTrafficSource]: the single X-Traffic-Source header (web,
// app, push, load-test or internal, as the semconv registry lists them),
// or "unknown" when it is absent or not allowed.
func DefaultTrafficSource(m kafka.Message) string {
	return instr.TrafficSource(NewHeaderCarrier(new(m.Headers)).Values(TrafficSourceHeader))
}

// WithTrafficSource sets the rule that tells where a message came from
// (consumer only), as tracehttp.WithTrafficSource does for a request.
func WithTrafficSource(f func(m kafka.Message) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.traffic, f) })
}

// WithFilter traces only the consumed messages for which f returns true
// (consumer only; StartBatchSpan ignores it). Other messages get no span
// (StartSpanFromMessage returns a no-op span) and no extraction, but keep
// the flow id, by package middleware's rules.
func WithFilter(f func(m kafka.Message) bool) Option {
	return optionFunc(func(c *config) { instr.Set(&c.filter, f) })
}

// WithLogger sets the logger of the Kafka middleware; package kafkaconsume
// reports through it. Default: the tracer's when it is flowtrace's (the
// logger flowtrace.Start configured), else the SDK's default on stderr.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { instr.Set(&c.engine.Logger, l) })
}

// Logger returns the logger opts select (see WithLogger), for code built on
// tracekafka's hooks, such as package kafkaconsume.
func Logger(opts ...Option) *slog.Logger { return newConfig(opts).engine.Log() }

// WithTracer sets the OpenTracing tracer. Default: opentracing.GlobalTracer(),
// looked up on every message. With any tracer the middleware reads and
// writes X-Flow-ID itself (flowtrace's tracer also carries the flow id as
// its flow_id baggage item).
func WithTracer(t opentracing.Tracer) Option {
	return optionFunc(func(c *config) { instr.Set(&c.engine.Tracer, t) })
}

// WithMessageKey records the message key as the tag messaging.kafka.message.key
// (printable ASCII kept, other bytes escaped, cut to 256 bytes). Keys often
// hold user or account ids: the default is not to record them.
func WithMessageKey() Option {
	return optionFunc(func(c *config) { c.recordKey = true })
}

// WithLinkOnly makes consumer spans start a new trace linked to the
// producer's span instead of following from it (consumer side), for topics
// fed by untrusted producers or by fan-in where one trace per message would
// grow without bound. The flow id still travels. Only flowtrace's tracer
// records links; other tracers see a root span.
func WithLinkOnly() Option {
	return optionFunc(func(c *config) { c.linkOnly = true })
}

// WithConsumerGroup tags consumer spans with the consumer group
// (messaging.consumer.group.name), for spans started by
// StartSpanFromMessage and StartBatchSpan (a Reader tags its own group).
func WithConsumerGroup(group string) Option {
	return optionFunc(func(c *config) { c.group = group })
}

// WithMaxLinks caps the links of a StartBatchSpan span (default 128); links
// beyond the cap are counted in the tag messaging.kafka.batch.links_dropped.
func WithMaxLinks(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.maxLinks = n
		}
	})
}
