package tracekafka

import (
	"log/slog"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// Option configures NewWriter, NewReader and the consumer hooks
// (StartSpanFromMessage, StartBatchSpan, InjectMessage). One
// option type serves producer and consumer; an option that only makes sense
// on one side says so and is ignored on the other.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults.
const (
	// DefaultMaxLinks caps the links of a StartBatchSpan span.
	DefaultMaxLinks = 128
)

type config struct {
	// engine holds the tracer (nil: opentracing.GlobalTracer() per use).
	engine    instr.Engine
	recordKey bool
	linkOnly  bool
	maxLinks  int
	group     string
}

func newConfig(opts []Option) *config {
	c := &config{engine: instr.Engine{Format: opentracing.TextMap, FlowKey: flowid.Header, Semconv: instr.NewEngineSemconv()}, maxLinks: DefaultMaxLinks}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

func (c *config) tracerOrGlobal() opentracing.Tracer { return c.engine.TracerFor() }

// WithLogger sets the logger of the Kafka middleware; package kafkaconsume
// reports through it. Default: the tracer's when it is flowtrace's (the
// logger flowtrace.Start configured), else the SDK's default on stderr. A
// nil logger keeps the default.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.engine.Logger = l
		}
	})
}

// Logger returns the logger opts select (see WithLogger), for code built on
// tracekafka's hooks, such as package kafkaconsume.
func Logger(opts ...Option) *slog.Logger { return newConfig(opts).engine.Log() }

// WithTracer sets the OpenTracing tracer. Default: opentracing.GlobalTracer(),
// looked up on every message. With any tracer the middleware reads and
// writes X-Flow-ID itself (flowtrace's tracer also carries the flow id as
// its flow_id baggage item).
func WithTracer(t opentracing.Tracer) Option {
	return optionFunc(func(c *config) {
		if t != nil {
			c.engine.Tracer = t
		}
	})
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
