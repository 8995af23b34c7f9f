package kafkaconsume

import (
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
)

// Defaults.
const (
	// DefaultAttempts is how many times a handler runs for one message (or
	// batch) before the consumer gives up on it.
	DefaultAttempts = 3
	// DefaultBackoff is the wait before the first retry; it doubles per
	// retry, up to MaxBackoff.
	DefaultBackoff = 100 * time.Millisecond
	// MaxBackoff caps the wait between retries.
	MaxBackoff = 10 * time.Second
	// LogBurst lines about given-up messages are written at once, then one
	// a second per Consumer; the others are counted in Stats.LogSuppressed.
	LogBurst = 5
)

// OnFailure is what a Consumer does with a message whose handler still
// fails after the last attempt and that has no dead-letter writer (or
// whose dead letter was written: then it always commits and goes on).
type OnFailure int8

const (
	// Skip commits past the message and goes on with the next one, as
	// kafka-go's ReadMessage does (it commits before the handler runs).
	// The span is marked failed and tagged messaging.kafka.skipped; the
	// message is counted in Stats.Skipped and logged (rate-limited). This
	// is the default.
	Skip OnFailure = iota
	// Stop returns the handler's error without committing: the partition
	// stops here, and a restarted consumer gets the message again. Choose
	// it when no message may be lost and an operator watches the service;
	// a message that can never succeed then blocks its partition until it
	// is dead-lettered or the code is fixed.
	Stop
)

// Option configures a Consumer.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tracing    []tracekafka.Option
	attempts   int
	backoff    time.Duration
	deadLetter *kafka.Writer
	onFailure  OnFailure
	logger     *slog.Logger
	now        func() time.Time
}

func newConfig(opts []Option) config {
	c := config{attempts: DefaultAttempts, backoff: DefaultBackoff, now: time.Now}
	instr.Apply(opts, func(o Option) { o.apply(&c) })
	return c
}

// WithTracing sets the tracekafka options of the spans (WithTracer,
// WithLinkOnly, WithMessageKey, WithMaxLinks). A *tracekafka.Reader given
// to New contributes its own options first.
func WithTracing(opts ...tracekafka.Option) Option {
	return optionFunc(func(c *config) { c.tracing = append(c.tracing, opts...) })
}

// WithRetry sets how often a failing handler runs for one message or batch
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
// still fails after the last attempt. The dead letter carries the original
// key, value and headers, the consumer span's trace context, and the
// headers X-DLQ-Topic, X-DLQ-Partition, X-DLQ-Offset and X-DLQ-Error; once
// it is written the original offset is committed and consumption goes on,
// whatever WithOnFailure says. When the write fails, the consumer returns
// the error without committing (a broken dead-letter topic is not a bad
// message). The writer must have its Topic set and is not closed here.
func WithDeadLetter(w *kafka.Writer) Option {
	return optionFunc(func(c *config) { instr.Set(&c.deadLetter, w) })
}

// WithOnFailure chooses what happens to a message that failed its last
// attempt and was not dead-lettered: Skip (the default) or Stop.
func WithOnFailure(f OnFailure) Option {
	return optionFunc(func(c *config) {
		if f == Skip || f == Stop {
			c.onFailure = f
		}
	})
}

// WithLogger sets where the consumer reports messages it gave up on (one
// warning each, at most LogBurst at once and then one a second). Default:
// tracekafka's logger (tracekafka.WithLogger among WithTracing's options,
// else the flowtrace tracer's, i.e. the one flowtrace.Start configured,
// else the SDK's default on stderr: package sdklog, escaped, bounded,
// "flowtrace: warning: ..." lines). A nil logger keeps the default.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { instr.Set(&c.logger, l) })
}

// withClock sets the log limiter's clock (tests).
func withClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}
