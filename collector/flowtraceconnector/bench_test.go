package flowtraceconnector_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/flowtrace/flowtrace/collector/flowtraceconnector"
	"github.com/flowtrace/flowtrace/internal/liveload"
)

// BenchmarkConnectorMemory feeds the connector a minute of the issue's
// load, 100,000 traces (400,000 spans) with 10,000 distinct operation
// names, in batches of 100, flushing metrics as a collector would, and
// reports the peak live heap (sampled every 10,000 traces after a GC) and
// the series sent at the end. The figures are in docs/performance.md;
// run with -benchtime=1x.
func BenchmarkConnectorMemory(b *testing.B) {
	for b.Loop() {
		f := flowtraceconnector.NewFactory()
		cfg := f.CreateDefaultConfig().(*flowtraceconnector.Config)
		cfg.SLOs = slosFile
		cfg.Idle = time.Millisecond
		sink := new(consumertest.MetricsSink)
		conn, err := f.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(flowtraceconnector.Type), cfg, sink)
		if err != nil {
			b.Fatal(err)
		}
		if err := conn.Start(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		var peak uint64
		now := time.Now()
		for i := 0; i < 100_000; i += 100 {
			if err := conn.ConsumeTraces(context.Background(), liveload.Batch(i, 100, 10_000, now)); err != nil {
				b.Fatal(err)
			}
			if i%10_000 == 0 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
				sink.Reset()
			}
		}
		if err := conn.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		if n := sink.AllMetrics(); len(n) > 0 {
			b.ReportMetric(float64(n[len(n)-1].DataPointCount()), "datapoints")
		}
	}
}
