package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

// Batcher defaults.
const (
	DefaultMaxQueueSize     = 2048
	DefaultMaxQueueBytes    = 8 << 20
	DefaultMaxBatchSize     = 512
	DefaultScheduleDelay    = 5 * time.Second
	DefaultExportTimeout    = 30 * time.Second
	DefaultErrorLogInterval = 10 * time.Second
)

const (
	// spinYields is how many times Shutdown yields before it sleeps while
	// waiting for OnEnd calls in progress.
	spinYields = 64
)

// ErrShutdown is returned by ForceFlush after Shutdown.
var ErrShutdown = errors.New("flowtrace: batcher is shut down")

// BatcherOption configures a Batcher.
type BatcherOption interface{ applyBatcher(*batcherConfig) }

type batcherOptionFunc func(*batcherConfig)

func (f batcherOptionFunc) applyBatcher(c *batcherConfig) { f(c) }

type batcherConfig struct {
	maxQueueSize     int
	maxQueueBytes    int64
	maxBatchSize     int
	scheduleDelay    time.Duration
	exportTimeout    time.Duration
	logger           *slog.Logger
	errorLogInterval time.Duration
}

func newBatcherConfig(opts []BatcherOption) batcherConfig {
	c := batcherConfig{
		maxQueueSize:     DefaultMaxQueueSize,
		maxQueueBytes:    DefaultMaxQueueBytes,
		maxBatchSize:     DefaultMaxBatchSize,
		scheduleDelay:    DefaultScheduleDelay,
		exportTimeout:    DefaultExportTimeout,
		errorLogInterval: DefaultErrorLogInterval,
	}
	for _, o := range opts {
		if o != nil {
			o.applyBatcher(&c)
		}
	}
	if c.maxQueueSize <= 0 {
		c.maxQueueSize = DefaultMaxQueueSize
	}
	if c.maxQueueBytes <= 0 {
		c.maxQueueBytes = DefaultMaxQueueBytes
	}
	if c.maxBatchSize <= 0 {
		c.maxBatchSize = DefaultMaxBatchSize
	}
	c.maxQueueSize = min(c.maxQueueSize, maxHeldSpans)
	c.maxQueueBytes = min(c.maxQueueBytes, maxHeldBytes)
	if c.maxBatchSize > c.maxQueueSize {
		c.maxBatchSize = c.maxQueueSize
	}
	if c.scheduleDelay <= 0 {
		c.scheduleDelay = DefaultScheduleDelay
	}
	if c.exportTimeout <= 0 {
		c.exportTimeout = DefaultExportTimeout
	}
	if c.errorLogInterval <= 0 {
		c.errorLogInterval = DefaultErrorLogInterval
	}
	if c.logger == nil {
		c.logger = sdklog.Default()
	}
	return c
}

// WithMaxQueueSize bounds how many spans the Batcher holds, queued or being
// exported (default DefaultMaxQueueSize, at most 1<<20). A value <= 0
// means the default.
func WithMaxQueueSize(n int) BatcherOption {
	return batcherOptionFunc(func(c *batcherConfig) { c.maxQueueSize = n })
}

// WithMaxQueueBytes bounds the size of the spans the Batcher holds
// (default DefaultMaxQueueBytes): their exact OTLP encoding in front of an
// OTLPExporter, else EstimateSize (string lengths and fixed per-item
// costs). A value <= 0 means the default.
func WithMaxQueueBytes(n int64) BatcherOption {
	return batcherOptionFunc(func(c *batcherConfig) { c.maxQueueBytes = n })
}

// WithMaxBatchSize bounds the spans per export (default
// DefaultMaxBatchSize, at most the queue size). A value <= 0 means the
// default.
func WithMaxBatchSize(n int) BatcherOption {
	return batcherOptionFunc(func(c *batcherConfig) { c.maxBatchSize = n })
}

// WithScheduleDelay sets how long a partial batch waits before it is
// exported (default DefaultScheduleDelay); a full batch goes at once. A
// value <= 0 means the default.
func WithScheduleDelay(d time.Duration) BatcherOption {
	return batcherOptionFunc(func(c *batcherConfig) { c.scheduleDelay = d })
}

// WithExportTimeout bounds one Export call (default DefaultExportTimeout).
// A value <= 0 means the default.
func WithExportTimeout(d time.Duration) BatcherOption {
	return batcherOptionFunc(func(c *batcherConfig) { c.exportTimeout = d })
}

// WithLogger sets the SDK logger export errors are reported to (default:
// standard error at the info level). Failures are summarised, see
// WithErrorLogInterval; at the debug level every export's outcome gets a
// line. A nil Logger means the default.
func WithLogger(l *slog.Logger) BatcherOption {
	return batcherOptionFunc(func(c *batcherConfig) { c.logger = l })
}

// WithErrorLogInterval sets the least time between two error reports
// (default DefaultErrorLogInterval). A value <= 0 means the default.
func WithErrorLogInterval(d time.Duration) BatcherOption {
	return batcherOptionFunc(func(c *batcherConfig) { c.errorLogInterval = d })
}

// Stats is a snapshot of a Batcher's counters; each counter is read
// atomically, the snapshot as a whole is not. Once Shutdown has returned
// (nil or an error), these hold for the spans offered to OnEnd (nil spans
// are ignored):
//
//	offered  = Enqueued + DroppedQueueFull + DroppedAfterShutdown
//	Enqueued = Exported + Unconfirmed + DroppedExportFailed + DroppedRejected + DroppedAtShutdown
//	QueueLen = QueueBytes = 0
//
// so offered = Exported + Dropped() + Unconfirmed.
type Stats struct {
	// Enqueued counts spans accepted by OnEnd.
	Enqueued int64
	// Exported counts spans the receiver accepted: those of an Export that
	// returned nil, plus those of an Export that returned a RejectedError
	// (an OTLP partial success) minus the spans it rejected.
	Exported int64
	// Unconfirmed counts spans sent to the collector that never answered
	// (the export's deadline passed after the request was written): they
	// may have arrived, so they are neither exported nor dropped.
	Unconfirmed int64
	// Trimmed counts exported spans that alone exceeded the request byte
	// limit and lost events, attributes or links to fit (counted on each
	// span as dropped items). They are also in Exported or another bucket.
	Trimmed int64
	// DroppedQueueFull counts spans refused because the queue was full (in
	// spans or bytes).
	DroppedQueueFull int64
	// DroppedExportFailed counts spans whose Export returned an error.
	DroppedExportFailed int64
	// DroppedRejected counts spans the receiver rejected in an otherwise
	// successful export (OTLP partial success, see RejectedError).
	DroppedRejected int64
	// DroppedShutdown is DroppedAfterShutdown + DroppedAtShutdown.
	DroppedShutdown int64
	// DroppedAfterShutdown counts spans offered after Shutdown began.
	DroppedAfterShutdown int64
	// DroppedAtShutdown counts enqueued spans abandoned because Shutdown's
	// context ended before they were exported.
	DroppedAtShutdown int64
	// QueueLen is the spans held now: queued or being exported.
	QueueLen int64
	// QueueBytes is the size of the spans held now (encoded bytes in
	// front of an OTLPExporter, else EstimateSize).
	QueueBytes int64
}

// Dropped returns the sum of all drop counters.
func (s Stats) Dropped() int64 {
	return s.DroppedQueueFull + s.DroppedExportFailed + s.DroppedRejected + s.DroppedShutdown
}

// queued is an encoded span in the queue (in front of an OTLPExporter):
// where its bytes are, and their size. It holds no pointer, so that
// neither the queue's buffer nor the worker's batch is scanned by the
// garbage collector, and a send costs no write barriers while it marks.
type queued struct {
	ref  spanRef
	size int64
}

// queuedSpan is a span in the queue of an exporter that takes spans.
type queuedSpan struct {
	span *tracer.SpanData
	size int64
}

type flushRequest struct {
	done chan error
}

// Batcher is a tracer.SpanProcessor that queues finished spans and exports
// them in batches from one goroutine. OnEnd never blocks: when the queue is
// full, or after Shutdown, the span is dropped and counted.
type Batcher struct {
	cfg batcherConfig
	exp Exporter
	// enc is exp when it takes spans encoded at OnEnd: the queue then
	// holds bytes, not span objects.
	enc spanEncoder
	// chunks holds the encoded spans' bytes (see chunks.go).
	chunks chunkArena
	// yieldEvery: above half a queue, OnEnd yields every yieldEvery spans.
	yieldEvery int64

	// queue holds encoded spans, spanQueue spans: one of them is nil.
	queue     chan queued
	spanQueue chan queuedSpan
	wake      chan struct{}
	flushCh   chan flushRequest
	stopCh    chan struct{}
	done      chan struct{}

	// ctx is cancelled when Shutdown's context ends, aborting exports.
	ctx    context.Context
	cancel context.CancelFunc

	stopped  atomic.Bool
	inflight atomic.Int64

	exported         atomic.Int64
	droppedFull      atomic.Int64
	droppedFailed    atomic.Int64
	droppedRejected  atomic.Int64
	unconfirmed      atomic.Int64
	droppedAfterStop atomic.Int64
	droppedAtStop    atomic.Int64
	// held is the spans held and their bytes, packed (see heldShift).
	held atomic.Int64

	// acct guards the settlement of held spans between the worker and a
	// Shutdown that gives up on it. It is never held across I/O.
	acct      sync.Mutex
	abandoned bool

	errLog rateLimitedLog
	log    *slog.Logger

	// Scratch of the worker's send.
	encScratch []encodedSpan
	runScratch []chunkRun

	shutdownOnce sync.Once
}

var _ tracer.SpanProcessor = (*Batcher)(nil)

// NewBatcher starts a Batcher exporting to exp.
func NewBatcher(exp Exporter, opts ...BatcherOption) *Batcher {
	if exp == nil {
		exp = NewDiscard()
	}
	cfg := newBatcherConfig(opts)
	ctx, cancel := context.WithCancel(context.Background())
	b := &Batcher{
		cfg:     cfg,
		exp:     exp,
		wake:    make(chan struct{}, 1),
		flushCh: make(chan flushRequest),
		stopCh:  make(chan struct{}),
		done:    make(chan struct{}),
		ctx:     ctx,
		cancel:  cancel,
		errLog:  rateLimitedLog{logger: cfg.logger, interval: cfg.errorLogInterval},
		log:     cfg.logger,
	}
	b.enc, _ = exp.(spanEncoder)
	if b.enc != nil {
		b.queue = make(chan queued, cfg.maxQueueSize)
	} else {
		b.spanQueue = make(chan queuedSpan, cfg.maxQueueSize)
	}
	b.yieldEvery = int64(max(1, cfg.maxBatchSize/8))
	go b.run()
	return b
}

// OnEnd queues s for export without blocking. It drops and counts s when
// the queue is full in spans or bytes, or when Shutdown has begun. In
// front of an OTLPExporter, OnEnd encodes s to OTLP protobuf and keeps
// only the bytes (the byte bound then counts exactly the encoded size), so
// s is not referenced once OnEnd returns; other exporters get s itself,
// which the Batcher then owns.
func (b *Batcher) OnEnd(s *tracer.SpanData) {
	if s == nil {
		return
	}
	b.inflight.Add(1)
	b.offer(s)
	b.inflight.Add(-1)
}

func (b *Batcher) offer(s *tracer.SpanData) {
	if b.stopped.Load() {
		b.droppedAfterStop.Add(1)
		return
	}
	// A full queue is seen without a write, before the span is encoded;
	// the Add below is the exact check.
	if b.held.Load()>>heldShift >= int64(b.cfg.maxQueueSize) {
		b.droppedFull.Add(1)
		return
	}
	var (
		q    queued
		qs   queuedSpan
		c    *chunk
		size int64
	)
	if b.enc != nil {
		q.ref, c = b.chunks.encode(s)
		q.size = int64(q.ref.n)
		size = q.size
	} else {
		qs = queuedSpan{span: s, size: EstimateSize(s)}
		size = qs.size
	}
	// One atomic add takes the span's place in both bounds.
	v := b.held.Add(heldUnit + size)
	held := v >> heldShift
	if held > int64(b.cfg.maxQueueSize) || v&heldBytesMask > b.cfg.maxQueueBytes {
		b.release(1, size)
		b.droppedFull.Add(1)
		b.chunks.settle(c, 1)
		return
	}
	var sent bool
	if b.enc != nil {
		select {
		case b.queue <- q:
			sent = true
		default:
		}
	} else {
		select {
		case b.spanQueue <- qs:
			sent = true
		default:
		}
	}
	if !sent {
		// Unreachable while held bounds the channel; kept as a guard.
		b.release(1, size)
		b.droppedFull.Add(1)
		b.chunks.settle(c, 1)
		return
	}
	// The worker sleeps until a batch is full (or its timer fires): a
	// wake-up per span would cost the service a scheduler round trip on
	// every Finish. held counts the queue, the worker's partial batch and
	// the batch in export, so no full batch goes unnoticed. Every value of
	// held is seen by exactly one offer, so poking on each multiple of the
	// batch size is enough, and cheaper than poking on every span while a
	// batch is being exported.
	if held%int64(b.cfg.maxBatchSize) == 0 {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
	if half := int64(b.cfg.maxQueueSize / 2); held >= half && (held-half)%b.yieldEvery == 0 {
		// Half the queue or more is waiting: the worker is not getting a
		// CPU (GOMAXPROCS=1, a busy loop of spans, a loaded machine).
		// Yield, every yieldEvery spans above half, so that it exports
		// instead of the queue filling up and dropping. A full queue drops
		// before this point: a hung collector costs no yields.
		runtime.Gosched()
	}
}

func (b *Batcher) release(n, size int64) {
	b.held.Add(-(n*heldUnit + size))
}

// held packs the spans the Batcher holds (above heldShift) and their bytes
// (below): one atomic add per span updates both bounds. maxQueueSize and
// maxQueueBytes are clamped to fit.
const (
	heldShift     = 40
	heldUnit      = int64(1) << heldShift
	heldBytesMask = heldUnit - 1
	// maxHeldSpans leaves room above the bound for offers in progress.
	maxHeldSpans = 1 << 20
	maxHeldBytes = heldUnit / 4
)

// Stats returns a snapshot of the counters.
func (b *Batcher) Stats() Stats {
	s := Stats{
		Exported:             b.exported.Load(),
		DroppedQueueFull:     b.droppedFull.Load(),
		DroppedExportFailed:  b.droppedFailed.Load(),
		DroppedRejected:      b.droppedRejected.Load(),
		Unconfirmed:          b.unconfirmed.Load(),
		DroppedAfterShutdown: b.droppedAfterStop.Load(),
		DroppedAtShutdown:    b.droppedAtStop.Load(),
	}
	h := b.held.Load()
	s.QueueLen, s.QueueBytes = h>>heldShift, h&heldBytesMask
	// Every span accepted is held or settled: Enqueued is not a counter of
	// its own, so that OnEnd touches one atomic for the queue.
	s.Enqueued = s.Exported + s.Unconfirmed + s.DroppedExportFailed + s.DroppedRejected + s.DroppedAtShutdown + s.QueueLen
	s.DroppedShutdown = s.DroppedAfterShutdown + s.DroppedAtShutdown
	if t, ok := b.exp.(interface{ Trimmed() int64 }); ok {
		s.Trimmed = t.Trimmed()
	}
	return s
}

// ForceFlush exports everything queued and waits for it, or returns
// ctx.Err() when ctx ends first (the flush then goes on in the background).
// It returns the export errors of the flush, and ErrShutdown after Shutdown.
func (b *Batcher) ForceFlush(ctx context.Context) error {
	if b.stopped.Load() {
		return ErrShutdown
	}
	req := flushRequest{done: make(chan error, 1)}
	select {
	case b.flushCh <- req:
	case <-b.done:
		return ErrShutdown
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops accepting spans, exports what is queued and shuts the
// exporter down. When ctx ends first, it aborts the export in progress,
// counts every span still held as DroppedAtShutdown and returns ctx.Err()
// without waiting for a hung exporter. Only the first call does anything;
// later calls return nil.
func (b *Batcher) Shutdown(ctx context.Context) error {
	err := error(nil)
	b.shutdownOnce.Do(func() {
		b.stopped.Store(true)
		// OnEnd calls that saw stopped == false finish in a few
		// instructions; wait for them so none enqueues after the drain.
		for i := 0; b.inflight.Load() != 0; i++ {
			if i%spinYields == spinYields-1 {
				time.Sleep(time.Microsecond)
			} else {
				runtime.Gosched()
			}
		}
		close(b.stopCh)
		select {
		case <-b.done:
			err = b.exp.Shutdown(ctx)
		case <-ctx.Done():
			held := b.held.Load() >> heldShift
			b.abandon()
			b.cancel()
			err = fmt.Errorf("flowtrace: shutdown deadline passed with %d span(s) not delivered: %w", held, ctx.Err())
			if expErr := b.exp.Shutdown(ctx); expErr != nil && !errors.Is(expErr, ctx.Err()) {
				err = errors.Join(err, expErr)
			}
		}
		b.cancel()
	})
	return err
}

// abandon settles every span still held as dropped at shutdown; the worker
// counts nothing afterwards.
func (b *Batcher) abandon() {
	b.acct.Lock()
	defer b.acct.Unlock()
	if b.abandoned {
		return
	}
	b.abandoned = true
	b.droppedAtStop.Add(b.held.Swap(0) >> heldShift)
}

// settle records the outcome of n held spans; it reports false once the
// Batcher was abandoned.
func (b *Batcher) settle(n, size int64, counter *atomic.Int64) bool {
	b.acct.Lock()
	defer b.acct.Unlock()
	if b.abandoned {
		return false
	}
	counter.Add(n)
	b.release(n, size)
	return true
}

// settleOutcome records an export of n held spans of which failed,
// rejected and unconfirmed did not make it (or are unknown) and the rest
// were exported; it reports false once the Batcher was abandoned.
func (b *Batcher) settleOutcome(n, failed, rejected, unconfirmed, size int64) bool {
	b.acct.Lock()
	defer b.acct.Unlock()
	if b.abandoned {
		return false
	}
	b.exported.Add(n - failed - rejected - unconfirmed)
	b.droppedFailed.Add(failed)
	b.droppedRejected.Add(rejected)
	b.unconfirmed.Add(unconfirmed)
	b.release(n, size)
	return true
}

// run is the Batcher's one goroutine.
func (b *Batcher) run() {
	defer close(b.done)
	// The batch is encoded spans or spans, as the queue: the other stays
	// empty.
	var (
		batch      []queued
		spans      []*tracer.SpanData
		batchBytes int64
	)
	if b.enc != nil {
		batch = make([]queued, 0, b.cfg.maxBatchSize)
	} else {
		spans = make([]*tracer.SpanData, 0, b.cfg.maxBatchSize)
	}
	timer := time.NewTimer(b.cfg.scheduleDelay)
	defer timer.Stop()

	exportBatch := func() error {
		if len(batch)+len(spans) == 0 {
			return nil
		}
		err := b.export(batch, spans, batchBytes)
		clear(spans)
		batch, spans = batch[:0], spans[:0]
		batchBytes = 0
		return err
	}
	// receive moves one queued span into the batch, reporting whether the
	// batch is full, or reports ok == false when nothing is queued.
	// Each select has one case and a default, which the compiler makes a
	// non-blocking receive: one select with both queues is a selectgo
	// call per span.
	receive := func() (full, ok bool) {
		if b.queue != nil {
			select {
			case q := <-b.queue:
				batch = append(batch, q)
				batchBytes += q.size
				return len(batch) == cap(batch), true
			default:
				return false, false
			}
		}
		select {
		case q := <-b.spanQueue:
			spans = append(spans, q.span)
			batchBytes += q.size
			return len(spans) == cap(spans), true
		default:
			return false, false
		}
	}
	// drain exports everything queued now, in full batches.
	drain := func() error {
		var errs []error
		for {
			full, ok := receive()
			if !ok {
				break
			}
			if full {
				errs = append(errs, exportBatch())
			}
		}
		errs = append(errs, exportBatch())
		return errors.Join(errs...)
	}

	// take moves what is queued now into the batch, exporting each batch
	// that fills; a partial batch waits for the timer or a flush.
	take := func() (exported bool) {
		for {
			full, ok := receive()
			if !ok {
				return exported
			}
			if full {
				_ = exportBatch()
				exported = true
			}
		}
	}

	for {
		select {
		case <-b.wake:
			if take() {
				resetTimer(timer, b.cfg.scheduleDelay)
			}
		case <-timer.C:
			take()
			_ = exportBatch()
			timer.Reset(b.cfg.scheduleDelay)
		case req := <-b.flushCh:
			req.done <- drain()
			resetTimer(timer, b.cfg.scheduleDelay)
		case <-b.stopCh:
			_ = drain()
			b.errLog.flush()
			return
		}
	}
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	t.Reset(d)
}

// export sends one batch and settles its spans. Once Shutdown has given up,
// it only drops.
func (b *Batcher) export(batch []queued, spans []*tracer.SpanData, size int64) error {
	n := int64(len(batch) + len(spans))
	runs := b.chunks.runs(b.runScratch[:0], batch)
	defer func() {
		clear(runs)
		b.runScratch = runs[:0]
	}()
	if b.ctx.Err() != nil {
		b.settle(n, size, &b.droppedAtStop)
		b.settleChunks(runs)
		return context.Canceled
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.exportTimeout)
	start := time.Now()
	err := b.send(ctx, batch, runs, spans)
	cancel()
	// The exporter keeps no span's bytes once it returns: their chunks
	// may be reused.
	b.settleChunks(runs)
	var failed, rejected, unconfirmed int64
	var rej *RejectedError
	var oe *OutcomeError
	switch {
	case err == nil:
	case errors.As(err, &oe):
		failed = min(max(oe.Failed, 0), n)
		rejected = min(max(oe.Rejected, 0), n-failed)
		unconfirmed = min(max(oe.Unconfirmed, 0), n-failed-rejected)
	case errors.As(err, &rej):
		rejected = min(max(rej.Rejected, 0), n)
	default:
		failed = n
	}
	if !b.settleOutcome(n, failed, rejected, unconfirmed, size) {
		return err
	}
	sdklog.Debugf(b.log, "export: %d span(s) in %v: %d exported, %d failed, %d rejected, %d unconfirmed",
		n, time.Since(start).Round(time.Microsecond), n-failed-rejected-unconfirmed, failed, rejected, unconfirmed)
	if failed+rejected+unconfirmed == 0 {
		return nil
	}
	b.errLog.record(err, failed+rejected, unconfirmed)
	return err
}

// settleChunks releases the batch's spans from their chunks, one atomic
// add per run of spans of one chunk.
func (b *Batcher) settleChunks(runs []chunkRun) {
	for _, r := range runs {
		b.chunks.settle(r.c, int64(r.n))
	}
}

// rateLimitedLog reports export errors at most once per interval, with the
// number of failed exports, dropped and unconfirmed spans since the last
// report. It is used by the worker goroutine only.
type rateLimitedLog struct {
	logger   *slog.Logger
	interval time.Duration

	last        time.Time
	failed      int64
	dropped     int64
	unconfirmed int64
	lastErr     error
}

func (l *rateLimitedLog) record(err error, dropped, unconfirmed int64) {
	l.failed++
	l.dropped += dropped
	l.unconfirmed += unconfirmed
	l.lastErr = err
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		return
	}
	l.last = now
	l.report()
}

func (l *rateLimitedLog) flush() {
	if l.failed > 0 {
		l.report()
	}
}

func (l *rateLimitedLog) report() {
	if l.unconfirmed > 0 {
		sdklog.Errorf(l.logger, "export failed %d time(s), %d span(s) dropped, %d unconfirmed (sent, no answer); last error: %s",
			l.failed, l.dropped, l.unconfirmed, quoteError(l.lastErr))
	} else {
		sdklog.Errorf(l.logger, "export failed %d time(s), %d span(s) dropped; last error: %s", l.failed, l.dropped, quoteError(l.lastErr))
	}
	l.failed, l.dropped, l.unconfirmed, l.lastErr = 0, 0, 0, nil
}

// send hands the batch to the exporter: the encoded spans (batch, in the
// chunks of runs), or the spans.
func (b *Batcher) send(ctx context.Context, batch []queued, runs []chunkRun, spans []*tracer.SpanData) error {
	if b.enc != nil {
		enc := b.encScratch[:0]
		i := 0
		for _, r := range runs {
			data := r.c.data
			for _, q := range batch[i : i+r.n] {
				enc = append(enc, encodedSpan{scope: r.scopes[q.ref.scope], b: data[q.ref.off : q.ref.off+q.ref.n : q.ref.off+q.ref.n]})
			}
			i += r.n
		}
		err := b.enc.exportEncoded(ctx, enc)
		clear(enc)
		b.encScratch = enc[:0]
		return err
	}
	return b.exp.Export(ctx, spans)
}
