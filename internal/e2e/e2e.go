// Package e2e builds flowtrace tracers that export over real OTLP/gRPC to an
// in-memory receiver, for end-to-end tests of instrumentation.
package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// NewTracer starts a receiver on 127.0.0.1 and a tracer exporting to it
// with the default propagators (tracecontext, baggage, flowid). Both are shut
// down when the test ends. Call Flush before reading the receiver.
func NewTracer(tb testing.TB, service string, opts ...tracer.Option) (*tracer.Tracer, *tracetest.Receiver) {
	tb.Helper()
	rcv, err := tracetest.NewReceiver()
	if err != nil {
		tb.Fatalf("receiver: %v", err)
	}
	tb.Cleanup(func() { _ = rcv.Close() })
	tr := NewTracerTo(tb, rcv, service, opts...)
	return tr, rcv
}

// NewTracerTo returns a tracer for service exporting to rcv: several
// services of one test share a receiver.
func NewTracerTo(tb testing.TB, rcv *tracetest.Receiver, service string, opts ...tracer.Option) *tracer.Tracer {
	tb.Helper()
	client, err := export.NewOTLPClient(export.OTLPSettings{Endpoint: rcv.GRPCEndpoint(), Insecure: true, Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatalf("OTLP client: %v", err)
	}
	exp := export.NewOTLP(client, []tracer.Attribute{{Key: "service.name", Value: service}})
	b := export.NewBatcher(exp, export.WithScheduleDelay(50*time.Millisecond))
	tr := tracer.New(append([]tracer.Option{tracer.WithProcessor(b), tracer.WithPropagator(propagation.Default())}, opts...)...)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
	})
	return tr
}

// Flush exports everything finished so far and waits for the receiver to
// hold at least n spans.
func Flush(tb testing.TB, tr *tracer.Tracer, rcv *tracetest.Receiver, n int) []tracetest.Span {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.ForceFlush(ctx); err != nil {
		tb.Fatalf("flush: %v", err)
	}
	spans, err := rcv.WaitForSpans(ctx, n)
	if err != nil {
		tb.Fatalf("waiting for %d spans (have %d): %v", n, len(rcv.Spans()), err)
	}
	return spans
}

// NewRecorded returns a tracer with the default propagators whose spans are
// recorded in memory as they finish (no receiver, no flush, no polling),
// shut down when the test ends.
func NewRecorded(tb testing.TB, opts ...tracer.Option) (*tracer.Tracer, *tracetest.Recorder) {
	tb.Helper()
	rec := tracetest.NewRecorder()
	return NewRecordedTo(tb, rec, opts...), rec
}

// NewRecordedTo returns a tracer recording into rec: several services of
// one test share a recorder.
func NewRecordedTo(tb testing.TB, rec *tracetest.Recorder, opts ...tracer.Option) *tracer.Tracer {
	tb.Helper()
	tr := tracer.New(append([]tracer.Option{tracer.WithProcessor(rec), tracer.WithPropagator(propagation.Default())}, opts...)...)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
	})
	return tr
}

// Recorded waits until rec holds at least n spans (spans other goroutines
// end, such as a Kafka writer's completions) and returns them all.
func Recorded(tb testing.TB, rec *tracetest.Recorder, n int) []tracetest.Span {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spans, err := rec.WaitForSpans(ctx, n)
	if err != nil {
		tb.Fatalf("waiting for %d spans: %v", n, err)
	}
	return spans
}
