package export

import (
	"context"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/tracer"
)

func benchBatcher(b *testing.B) *Batcher {
	bt := NewBatcher(NewDiscard(), WithScheduleDelay(time.Millisecond))
	b.Cleanup(func() { _ = bt.Shutdown(context.Background()) })
	return bt
}

// BenchmarkBatcherOnEnd measures the hot path; spans dropped because the
// consumer falls behind are part of what is measured.
func BenchmarkBatcherOnEnd(b *testing.B) {
	s := mkSpan(1)
	b.Run("serial", func(b *testing.B) {
		bt := benchBatcher(b)
		b.ReportAllocs()
		for b.Loop() {
			bt.OnEnd(s)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		bt := benchBatcher(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bt.OnEnd(s)
			}
		})
	})
	b.Run("after-shutdown", func(b *testing.B) {
		bt := benchBatcher(b)
		_ = bt.Shutdown(context.Background())
		b.ReportAllocs()
		for b.Loop() {
			bt.OnEnd(s)
		}
	})
}

func TestOnEndAllocs(t *testing.T) {
	bt := NewBatcher(NewDiscard(), WithScheduleDelay(time.Millisecond))
	defer func() { _ = bt.Shutdown(context.Background()) }()
	s := mkSpan(1)
	if n := testing.AllocsPerRun(1000, func() { bt.OnEnd(s) }); n != 0 {
		t.Fatalf("OnEnd allocates %v times", n)
	}
}

// BenchmarkToOTLP reports the cost per span of converting a 512-span batch.
func BenchmarkToOTLP(b *testing.B) {
	spans := make([]*tracer.SpanData, 512)
	for i := range spans {
		spans[i] = mkSpan(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = ToOTLP(testRes, DefaultScopeName, DefaultScopeVersion, spans)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
}

// BenchmarkConverter reports the cost per span of converting 512-span
// batches with a reused Converter, as the OTLP exporter does.
func BenchmarkConverter(b *testing.B) {
	spans := make([]*tracer.SpanData, 512)
	for i := range spans {
		spans[i] = mkSpan(i)
	}
	var c Converter
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Convert(testRes, DefaultScopeName, DefaultScopeVersion, spans)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
}
