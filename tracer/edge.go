package tracer

import (
	"log/slog"
	"sync/atomic"

	"github.com/flowtrace/flowtrace/sdklog"
)

// WithLogger sets the logger of what runs on this tracer and has
// something to say (flowtrace.Start passes the SDK's; flowtrace's
// middleware and kafkaconsume log through Logger unless given their own).
// Default: sdklog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// Logger returns the tracer's logger; never nil.
func (t *Tracer) Logger() *slog.Logger {
	if t.cfg.logger != nil {
		return t.cfg.logger
	}
	return sdklog.Default()
}

// EdgeCounters are the counters flowtrace's middleware (tracehttp,
// tracegrpc, tracekafka) keeps for the tracer it runs on, so that they
// are per tracer (per flowtrace.Start: Tracing.Stats reports them) rather
// than per process. The middleware adds to them; read them with
// [EdgeCounters.Stats].
type EdgeCounters struct {
	Messages         atomic.Uint64
	NoTraceContext   atomic.Uint64
	InvalidContext   atomic.Uint64
	DuplicateHeaders atomic.Uint64
	HugeHeaders      atomic.Uint64
	ForeignHeaders   atomic.Uint64
	InvalidFlowID    atomic.Uint64
	LinksDropped     atomic.Uint64
	DroppedValues    atomic.Uint64
}

// EdgeStats is a reading of [EdgeCounters].
type EdgeStats struct {
	// Kafka consumer side (tracekafka): messages that got a consumer span
	// (or a batch link attempt), and among them those without any trace
	// header, with trace headers the tracer could not extract, with a
	// trace or flow-id header present more than once, with a header value
	// of tracekafka.HugeHeaderBytes or more, with uber-trace-id, B3 or
	// ot-tracer-* headers; batch links beyond the cap.
	Messages, NoTraceContext, InvalidContext, DuplicateHeaders, HugeHeaders, ForeignHeaders, LinksDropped uint64
	// InvalidFlowID counts consumed Kafka messages with an invalid or
	// repeated X-Flow-ID (replaced by a new flow id).
	InvalidFlowID uint64
	// DroppedValues counts gRPC metadata keys or values that tracegrpc's
	// interceptors refused to write because grpc-go would reject them.
	DroppedValues uint64
}

// Stats reads the counters.
func (c *EdgeCounters) Stats() EdgeStats {
	return EdgeStats{
		Messages: c.Messages.Load(), NoTraceContext: c.NoTraceContext.Load(), InvalidContext: c.InvalidContext.Load(),
		DuplicateHeaders: c.DuplicateHeaders.Load(), HugeHeaders: c.HugeHeaders.Load(), ForeignHeaders: c.ForeignHeaders.Load(),
		LinksDropped: c.LinksDropped.Load(), InvalidFlowID: c.InvalidFlowID.Load(), DroppedValues: c.DroppedValues.Load(),
	}
}

// Edge returns the tracer's edge counters.
func (t *Tracer) Edge() *EdgeCounters { return &t.edge }
