package export

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/tracer"
)

// Targeted races for `go test -race -count=50 -run 'Race|Concurrent'`:
// each takes well under a second.

func TestBatcherConcurrentShutdownTwice(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithScheduleDelay(time.Millisecond))
	for i := range 100 {
		b.OnEnd(mkSpan(i))
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = shutdown(t, b, 5*time.Second) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), f.shutdown.Load(), "the exporter is shut down once")
	requireAccounted(t, b.Stats(), 100)
}

func TestBatcherRaceForceFlushShutdown(t *testing.T) {
	f := newFake()
	b := NewBatcher(f, WithScheduleDelay(time.Hour), WithMaxBatchSize(16))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				b.OnEnd(mkSpan(w*100 + i))
			}
		})
		wg.Go(func() {
			for range 10 {
				if err := b.ForceFlush(context.Background()); err != nil {
					require.ErrorIs(t, err, ErrShutdown)
				}
			}
		})
	}
	wg.Go(func() { require.NoError(t, shutdown(t, b, 5*time.Second)) })
	wg.Wait()
	require.ErrorIs(t, b.ForceFlush(context.Background()), ErrShutdown)
	st := b.Stats()
	requireAccounted(t, st, 400)
	require.Equal(t, f.spans.Load(), st.Exported)
}

func TestBatcherRaceOnEndShutdownHungExporter(t *testing.T) {
	f := newFake()
	f.block = true
	b := NewBatcher(f, WithMaxQueueSize(64), WithMaxBatchSize(8), WithScheduleDelay(time.Millisecond))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				b.OnEnd(mkSpan(w*300 + i))
			}
		})
	}
	// Wait for an export to hang, but not for ever: a batcher that never
	// calls the exporter fails the test instead of hanging it.
	for deadline := time.Now().Add(10 * time.Second); f.calls.Load() == 0; {
		require.True(t, time.Now().Before(deadline), "no export started within 10s")
		time.Sleep(100 * time.Microsecond)
	}
	start := time.Now()
	err := shutdown(t, b, 50*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), time.Second)
	wg.Wait()
	<-b.done
	st := b.Stats()
	requireAccounted(t, st, 1200)
	require.Zero(t, st.Exported)
}

// rejectingExporter accepts every batch except reject spans of it, or a
// hostile count larger than the batch.
type rejectingExporter struct {
	fakeExporter
	reject int64
}

func (r *rejectingExporter) Export(ctx context.Context, spans []*tracer.SpanData) error {
	if err := r.fakeExporter.Export(ctx, spans); err != nil {
		return err
	}
	return &RejectedError{Rejected: r.reject, Message: "no"}
}

func TestBatcherConcurrentPartialRejection(t *testing.T) {
	for _, reject := range []int64{0, 1, 1 << 40, -5} {
		f := &rejectingExporter{fakeExporter: *newFake(), reject: reject}
		logs := &lineLogger{}
		b := NewBatcher(f, WithMaxBatchSize(4), WithScheduleDelay(time.Millisecond), WithLogger(logs.logger()), WithErrorLogInterval(time.Hour))
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 100 {
					b.OnEnd(mkSpan(w*100 + i))
				}
			})
			wg.Go(func() { _ = b.ForceFlush(context.Background()) })
		}
		wg.Wait()
		require.NoError(t, shutdown(t, b, 5*time.Second))
		st := b.Stats()
		requireAccounted(t, st, 400)
		require.Zero(t, st.DroppedExportFailed)
		switch {
		case reject <= 0:
			require.Equal(t, int64(400), st.Exported, "a partial success rejecting nothing is a warning")
			require.Empty(t, logs.Lines())
		case reject == 1:
			calls := f.calls.Load()
			require.Equal(t, calls, st.DroppedRejected)
			require.Equal(t, 400-calls, st.Exported)
		default:
			require.Equal(t, int64(400), st.DroppedRejected, "a rejected count above the batch is clamped")
			require.Zero(t, st.Exported)
		}
	}
}
