package remotesampling

import (
	"context"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/tracer"
)

type discard struct{}

func (discard) OnEnd(*tracer.SpanData)           {}
func (discard) ForceFlush(context.Context) error { return nil }
func (discard) Shutdown(context.Context) error   { return nil }

// benchTracers returns a tracer with the static sampler and one with a
// remote sampler holding strategy (no poller: the decision path alone).
func benchTracers(strategy response) (static, remote *tracer.Tracer) {
	s := &Sampler{stop: make(chan struct{}), done: make(chan struct{})}
	s.cur.Store(compile(strategy, 1, time.Now(), DefaultMaxOperations, monotonicClock()))
	static = tracer.New(tracer.WithSampler(tracer.ParentBased(tracer.TraceIDRatio(strategy.probability))), tracer.WithProcessor(discard{}))
	remote = tracer.New(tracer.WithSampler(tracer.ParentBased(s)), tracer.WithProcessor(discard{}))
	return static, remote
}

// workload is tracer's benchmark shape: a root with five tags and a child.
func workload(tr opentracing.Tracer) {
	root := tr.StartSpan("GET /orders/{id}")
	root.SetTag("component", "bench")
	root.SetTag("attempt", 3)
	root.SetTag("cached", true)
	root.SetTag("http.method", "GET")
	root.SetTag("http.status_code", 200)
	c := tr.StartSpan("SELECT orders", opentracing.ChildOf(root.Context()))
	c.Finish()
	root.Finish()
}

// BenchmarkStartSpan compares the static sampler with the remote one, for
// a probabilistic strategy and for a per-operation strategy with a lower
// bound (the costliest decision).
func BenchmarkStartSpan(b *testing.B) {
	static, probabilistic := benchTracers(response{kind: kindProbabilistic, probability: 1})
	_, lowerBound := benchTracers(response{kind: kindPerOperation, probability: 1, lowerBound: 5, operations: []operation{{"GET /orders/{id}", 1}}})
	for _, tc := range []struct {
		name string
		tr   *tracer.Tracer
	}{{"static", static}, {"remote-probabilistic", probabilistic}, {"remote-lowerbound", lowerBound}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				workload(tc.tr)
			}
		})
	}
}
