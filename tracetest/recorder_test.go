package tracetest_test

import (
	"context"
	"errors"
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// both hands each span to two processors.
type both [2]tracer.SpanProcessor

func (b both) OnEnd(s *tracer.SpanData) { b[0].OnEnd(s); b[1].OnEnd(s) }
func (b both) ForceFlush(ctx context.Context) error {
	return errors.Join(b[0].ForceFlush(ctx), b[1].ForceFlush(ctx))
}
func (b both) Shutdown(ctx context.Context) error {
	return errors.Join(b[0].Shutdown(ctx), b[1].Shutdown(ctx))
}

// TestRecorderMatchesReceiver: the same spans, recorded in memory and
// exported over OTLP/gRPC to the Receiver, read the same (but for the
// resource and scope, which only the exporter adds).
func TestRecorderMatchesReceiver(t *testing.T) {
	t.Parallel()
	rcv, err := tracetest.NewReceiver()
	require.NoError(t, err)
	defer func() { require.NoError(t, rcv.Close()) }()
	client, err := export.NewOTLPClient(export.OTLPSettings{Endpoint: rcv.GRPCEndpoint(), Insecure: true, Timeout: 5 * time.Second})
	require.NoError(t, err)
	batcher := export.NewBatcher(export.NewOTLP(client, nil))
	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithProcessor(both{rec, batcher}))

	parent := tr.StartSpan("GET /orders/{id}", ext.SpanKindRPCServer)
	parent.SetTag("int", 7).SetTag("uint64", uint64(math.MaxUint64)).SetTag("float", float32(0.5)).
		SetTag("bool", true).SetTag("bad utf8", "a\xffb").SetTag("bytes", []byte{1, 2}).SetTag("stringer", time.Second)
	parent.LogKV("event", "retry", "attempt", 2)
	ext.Error.Set(parent, true)
	child := tr.StartSpan("db", opentracing.ChildOf(parent.Context()))
	other := tr.StartSpan("other")
	follower := tr.StartSpan("consumer", opentracing.FollowsFrom(other.Context()), tracer.LinkTo(parent.Context()))
	follower.Finish()
	other.Finish()
	child.Finish()
	parent.Finish()

	require.Equal(t, 4, rec.Len(), "recorded when Finish returned: no flush, no wait")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, tr.ForceFlush(ctx))
	got, err := rcv.WaitForSpans(ctx, 4)
	require.NoError(t, err)
	require.NoError(t, tr.Shutdown(ctx))

	norm := func(spans []tracetest.Span) []tracetest.Span {
		for i := range spans {
			spans[i].Resource, spans[i].ScopeName, spans[i].ScopeVersion = nil, "", ""
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].SpanID < spans[j].SpanID })
		return spans
	}
	want := norm(got)
	recorded := norm(rec.Spans())
	require.Equal(t, want, recorded)
	p, ok := rec.FindSpan("GET /orders/{id}")
	require.True(t, ok)
	require.Equal(t, tracer.StatusError, p.Status.Code)
	require.Equal(t, "18446744073709551615", p.Attributes["uint64"])
	require.Equal(t, "a\uFFFDb", p.Attributes["bad utf8"])
	require.Len(t, p.Events, 1)
}

func TestRecorderBehindBatcher(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewRecorder()
	b := export.NewBatcher(rec, export.WithScheduleDelay(time.Hour))
	tr := tracer.New(tracer.WithProcessor(b))
	for range 3 {
		tr.StartSpan("s").Finish()
	}
	require.Zero(t, rec.Len(), "the batcher holds them until it flushes")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, tr.ForceFlush(ctx))
	require.Equal(t, 3, rec.Len())
	require.NoError(t, tr.Shutdown(ctx))
	require.Equal(t, int64(3), b.Stats().Exported)
}

func TestRecorderBoundAndShutdown(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewRecorderMax(2)
	tr := tracer.New(tracer.WithProcessor(rec))
	for range 5 {
		tr.StartSpan("s").Finish()
	}
	require.Equal(t, 2, rec.Len())
	require.Equal(t, int64(3), rec.Dropped())
	rec.Reset()
	require.Zero(t, rec.Len())
	require.Zero(t, rec.Dropped())
	require.NoError(t, tr.Shutdown(context.Background()))
	rec.OnEnd(&tracer.SpanData{Name: "late"})
	require.Zero(t, rec.Len())
	require.Equal(t, int64(1), rec.Dropped(), "a span after Shutdown is counted, not kept")
	rec.OnEnd(nil)
}

func TestRecorderWaitForSpans(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithProcessor(rec))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { tr.StartSpan("async").Finish() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spans, err := rec.WaitForSpans(ctx, 8)
	require.NoError(t, err)
	require.Len(t, spans, 8)
	wg.Wait()

	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	spans, err = rec.WaitForSpans(short, 9)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, spans, 8)
}
