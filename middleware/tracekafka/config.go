package tracekafka

import (
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
)

// Option configures NewWriter, NewReader, Consume and ConsumeBatch. One
// option type serves producer and consumer; an option that only makes sense
// on one side says so and is ignored on the other.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults.
const (
	// DefaultAttempts is how many times Consume runs a handler for one
	// message (or ConsumeBatch for one batch) before giving up.
	DefaultAttempts = 3
	// DefaultBackoff is the wait before the first retry; it doubles per
	// retry, up to MaxBackoff.
	DefaultBackoff = 100 * time.Millisecond
	// MaxBackoff caps the wait between retries.
	MaxBackoff = 10 * time.Second
	// DefaultMaxLinks caps the links of a ConsumeBatch span.
	DefaultMaxLinks = 128
)

type config struct {
	tracer     opentracing.Tracer // nil: opentracing.GlobalTracer() per use
	recordKey  bool
	linkOnly   bool
	attempts   int
	backoff    time.Duration
	deadLetter *kafka.Writer
	maxLinks   int
}

func newConfig(opts []Option) *config {
	c := &config{attempts: DefaultAttempts, backoff: DefaultBackoff, maxLinks: DefaultMaxLinks}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

func (c *config) tracerOrGlobal() opentracing.Tracer {
	if c.tracer != nil {
		return c.tracer
	}
	return opentracing.GlobalTracer()
}

// WithTracer sets the OpenTracing tracer. Default: opentracing.GlobalTracer(),
// looked up on every message. With flowtrace's tracer the flow id travels as
// its baggage and the tracer's flowid propagator writes X-Flow-ID; with any
// other tracer the middleware reads and writes X-Flow-ID itself.
func WithTracer(t opentracing.Tracer) Option {
	return optionFunc(func(c *config) {
		if t != nil {
			c.tracer = t
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

// WithRetry sets how often Consume and ConsumeBatch run a failing handler
// (attempts, at least 1; default 3) and the wait before the first retry
// (default 100ms), doubled per retry up to MaxBackoff. The wait ends early
// when the context is cancelled.
func WithRetry(attempts int, backoff time.Duration) Option {
	return optionFunc(func(c *config) {
		if attempts >= 1 {
			c.attempts = attempts
		}
		if backoff >= 0 {
			c.backoff = backoff
		}
	})
}

// WithDeadLetter sets the writer that receives a message whose handler
// still fails after the last attempt (Consume and ConsumeBatch). The dead
// letter carries the original key, value and headers, the consumer span's
// trace context, and the headers X-DLQ-Topic, X-DLQ-Partition, X-DLQ-Offset
// and X-DLQ-Error; once it is written the original offset is committed and
// consumption goes on. Without a dead-letter writer, Consume stops and
// returns the handler's error without committing. The writer must have its
// Topic set and is not closed by this package.
func WithDeadLetter(w *kafka.Writer) Option {
	return optionFunc(func(c *config) {
		if w != nil {
			c.deadLetter = w
		}
	})
}

// WithMaxLinks caps the links of a ConsumeBatch span (default 128); links
// beyond the cap are counted in the tag messaging.kafka.batch.links_dropped.
func WithMaxLinks(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.maxLinks = n
		}
	})
}
