package export

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/tracer"
)

func shutdown(t *testing.T, b *Batcher, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return b.Shutdown(ctx)
}

// requireAccounted checks the Stats invariants after Shutdown, among them
// offered (finished) = Exported + Dropped() + Unconfirmed.
func requireAccounted(t *testing.T, st Stats, offered int64) {
	t.Helper()
	require.Equal(t, offered, st.Enqueued+st.DroppedQueueFull+st.DroppedAfterShutdown, "%+v", st)
	require.Equal(t, st.Enqueued, st.Exported+st.Unconfirmed+st.DroppedExportFailed+st.DroppedRejected+st.DroppedAtShutdown, "%+v", st)
	require.Equal(t, st.DroppedAfterShutdown+st.DroppedAtShutdown, st.DroppedShutdown)
	// finished = exported + dropped + unconfirmed
	require.Equal(t, offered, st.Exported+st.Dropped()+st.Unconfirmed, "%+v", st)
	require.Zero(t, st.QueueLen, "%+v", st)
	require.Zero(t, st.QueueBytes, "%+v", st)
}

func TestBatcherExportsFullBatchesEarly(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithMaxBatchSize(10), WithScheduleDelay(time.Hour))
	for i := range 25 {
		b.OnEnd(mkSpan(i))
	}
	require.Eventually(t, func() bool { return f.spans.Load() == 20 }, 5*time.Second, time.Millisecond)
	require.NoError(t, b.ForceFlush(context.Background()))
	require.Equal(t, int64(25), f.spans.Load())
	require.NoError(t, shutdown(t, b, 5*time.Second))
	require.Equal(t, int64(1), f.shutdown.Load())
	requireAccounted(t, b.Stats(), 25)
	require.Equal(t, int64(25), b.Stats().Exported)
}

func TestBatcherScheduleDelay(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithScheduleDelay(20*time.Millisecond))
	defer func() { require.NoError(t, shutdown(t, b, 5*time.Second)) }()
	b.OnEnd(mkSpan(1))
	require.Eventually(t, func() bool { return f.spans.Load() == 1 }, 5*time.Second, time.Millisecond)
}

func TestBatcherShutdownDeliversQueued(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithScheduleDelay(time.Hour), WithMaxBatchSize(100), WithMaxQueueSize(5000))
	for i := range 1234 {
		b.OnEnd(mkSpan(i))
	}
	b.OnEnd(nil) // ignored
	require.NoError(t, shutdown(t, b, 5*time.Second))
	require.Equal(t, int64(1234), f.spans.Load())
	st := b.Stats()
	requireAccounted(t, st, 1234)
	require.Equal(t, int64(1234), st.Exported)
	for _, batch := range f.batches {
		require.LessOrEqual(t, len(batch), 100)
	}
}

func TestBatcherQueueFull(t *testing.T) {
	f := newFake()
	f.block = true
	b := NewBatcher(f, WithMaxQueueSize(100), WithMaxBatchSize(10), WithScheduleDelay(time.Millisecond))
	for i := range 1000 {
		b.OnEnd(mkSpan(i))
		st := b.Stats()
		require.LessOrEqual(t, st.QueueLen, int64(100))
	}
	st := b.Stats()
	require.Equal(t, int64(100), st.QueueLen)
	require.Equal(t, int64(900), st.DroppedQueueFull)
	close(f.release)
	require.NoError(t, shutdown(t, b, 5*time.Second))
	st = b.Stats()
	requireAccounted(t, st, 1000)
	require.Equal(t, int64(100), st.Exported)
}

func TestBatcherQueueBytesBound(t *testing.T) {
	f := newFake()
	f.block = true
	size := EstimateSize(mkSpan(1))
	b := NewBatcher(f, WithMaxQueueBytes(10*size+size/2), WithScheduleDelay(time.Hour))
	for i := range 100 {
		b.OnEnd(mkSpan(i))
	}
	st := b.Stats()
	require.Equal(t, int64(10), st.Enqueued)
	require.Equal(t, int64(90), st.DroppedQueueFull)
	require.LessOrEqual(t, st.QueueBytes, 10*size+size/2)
	close(f.release)
	require.NoError(t, shutdown(t, b, 5*time.Second))
	requireAccounted(t, b.Stats(), 100)
}

func TestBatcherOnEndAfterShutdownAndShutdownTwice(t *testing.T) {
	f := newFake()
	b := NewBatcher(f)
	b.OnEnd(mkSpan(0))
	require.NoError(t, shutdown(t, b, 5*time.Second))
	require.NotPanics(t, func() {
		for i := range 10 {
			b.OnEnd(mkSpan(i))
		}
	})
	require.NoError(t, shutdown(t, b, 5*time.Second), "second Shutdown is a no-op")
	require.ErrorIs(t, b.ForceFlush(context.Background()), ErrShutdown)
	st := b.Stats()
	require.Equal(t, int64(10), st.DroppedAfterShutdown)
	requireAccounted(t, st, 11)
	require.Equal(t, int64(1), f.shutdown.Load())
}

func TestBatcherForceFlushHonoursContext(t *testing.T) {
	f := newFake()
	f.block = true
	b := NewBatcher(f, WithScheduleDelay(time.Hour))
	b.OnEnd(mkSpan(0))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.ErrorIs(t, b.ForceFlush(ctx), context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
	close(f.release)
	require.NoError(t, shutdown(t, b, 5*time.Second))
	requireAccounted(t, b.Stats(), 1)
}

func TestBatcherShutdownHungExporter(t *testing.T) {
	f := newFake()
	f.block = true
	b := NewBatcher(f, WithScheduleDelay(time.Millisecond), WithMaxBatchSize(10), WithExportTimeout(time.Hour))
	for i := range 500 {
		b.OnEnd(mkSpan(i))
	}
	start := time.Now()
	err := shutdown(t, b, 100*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "not delivered", "the error says what was lost")
	require.Less(t, time.Since(start), 2*time.Second)
	st := b.Stats()
	requireAccounted(t, st, 500)
	require.Equal(t, int64(500), st.DroppedAtShutdown)
	// The worker ends once its aborted export returns.
	require.Eventually(t, func() bool {
		select {
		case <-b.done:
			return true
		default:
			return false
		}
	}, 5*time.Second, time.Millisecond)
	requireAccounted(t, b.Stats(), 500)
}

func TestBatcherExportErrorsRateLimited(t *testing.T) {
	f := newFake()
	f.fail = errFake
	logs := &lineLogger{}
	b := NewBatcher(f, WithMaxBatchSize(1), WithMaxQueueSize(10000), WithScheduleDelay(time.Hour),
		WithLogger(logs.logger()), WithErrorLogInterval(time.Hour))
	for i := range 2000 {
		b.OnEnd(mkSpan(i))
	}
	// ForceFlush reports the failures of the exports it runs itself; the
	// worker may have exported (and failed) everything before it.
	if err := b.ForceFlush(context.Background()); err != nil {
		require.ErrorIs(t, err, errFake)
	}
	require.NoError(t, shutdown(t, b, 5*time.Second))
	lines := logs.Lines()
	require.NotEmpty(t, lines)
	require.LessOrEqual(t, len(lines), 2, "error storm must be rate-limited: %q", lines)
	require.Contains(t, lines[0], "collector says no")
	require.Contains(t, lines[len(lines)-1], "span(s) dropped")
	st := b.Stats()
	requireAccounted(t, st, 2000)
	require.Equal(t, int64(2000), st.DroppedExportFailed)
	require.Equal(t, int64(2000), f.calls.Load())
}

func TestBatcherDefaultLoggerPrefix(t *testing.T) {
	cfg := newBatcherConfig(nil)
	require.NotNil(t, cfg.logger)
	require.Equal(t, DefaultMaxQueueSize, cfg.maxQueueSize)
	require.Equal(t, int64(DefaultMaxQueueBytes), cfg.maxQueueBytes)
	require.Equal(t, DefaultMaxBatchSize, cfg.maxBatchSize)
	require.Equal(t, DefaultScheduleDelay, cfg.scheduleDelay)
	require.Equal(t, DefaultExportTimeout, cfg.exportTimeout)

	cfg = newBatcherConfig([]BatcherOption{nil, WithMaxQueueSize(8), WithMaxBatchSize(100), WithScheduleDelay(-1), WithLogger(nil)})
	require.Equal(t, 8, cfg.maxBatchSize, "batch size capped by queue size")
	require.Equal(t, DefaultScheduleDelay, cfg.scheduleDelay)
	require.NotNil(t, cfg.logger)
}

func TestBatcherConcurrentOnEndRaceShutdown(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithMaxQueueSize(256), WithMaxBatchSize(32), WithScheduleDelay(time.Millisecond))
	const workers, per = 8, 500
	var wg sync.WaitGroup
	startCh := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startCh
			for i := range per {
				b.OnEnd(mkSpan(w*per + i))
			}
		}()
	}
	close(startCh)
	time.Sleep(time.Millisecond)
	require.NoError(t, shutdown(t, b, 5*time.Second))
	wg.Wait()
	st := b.Stats()
	requireAccounted(t, st, workers*per)
	require.Equal(t, f.spans.Load(), st.Exported)
}

func TestBatcherConcurrentForceFlush(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithScheduleDelay(time.Hour))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				b.OnEnd(mkSpan(w*200 + i))
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				err := b.ForceFlush(context.Background())
				if err != nil {
					require.ErrorIs(t, err, ErrShutdown)
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, b.ForceFlush(context.Background()))
	require.Equal(t, int64(800), f.spans.Load())
	require.NoError(t, shutdown(t, b, 5*time.Second))
	requireAccounted(t, b.Stats(), 800)
}

func TestEstimateSize(t *testing.T) {
	require.Zero(t, EstimateSize(nil))
	small := EstimateSize(&tracer.SpanData{Name: "a"})
	big := EstimateSize(&tracer.SpanData{Name: strings.Repeat("a", 1000)})
	require.Equal(t, int64(999), big-small)
	require.Greater(t, EstimateSize(mkSpan(1)), small)
	require.Zero(t, testing.AllocsPerRun(100, func() { EstimateSize(mkSpan(1)) })-allocsOfMkSpan())
}

func allocsOfMkSpan() float64 {
	return testing.AllocsPerRun(100, func() { mkSpan(1) })
}

func TestDiscard(t *testing.T) {
	d := NewDiscard()
	b := NewBatcher(d)
	for i := range 10 {
		b.OnEnd(mkSpan(i))
	}
	require.NoError(t, shutdown(t, b, 5*time.Second))
	require.Equal(t, int64(10), d.Discarded())
	require.Equal(t, int64(10), b.Stats().Exported)
}

func TestBatcherExportsFullBatchWithoutWaitingForTimer(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithMaxBatchSize(64), WithScheduleDelay(time.Hour))
	defer func() { require.NoError(t, shutdown(t, b, 5*time.Second)) }()
	for i := range 63 {
		b.OnEnd(mkSpan(i))
	}
	time.Sleep(50 * time.Millisecond)
	require.Zero(t, f.calls.Load(), "a partial batch waits for the timer")
	b.OnEnd(mkSpan(63))
	require.Eventually(t, func() bool { return f.calls.Load() == 1 }, 5*time.Second, time.Millisecond,
		"a full batch wakes the worker")
	require.Equal(t, int64(64), b.Stats().Exported)
}
