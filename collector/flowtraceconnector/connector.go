package flowtraceconnector

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/source"
)

// ScopeName is the instrumentation scope of the metrics the connector
// emits.
const ScopeName = "github.com/flowtrace/flowtrace/collector/flowtraceconnector"

// expireEvery is how often idle traces are looked for.
const expireEvery = time.Second

type flowtraceConnector struct {
	cfg    *Config
	logger *zap.Logger
	next   consumer.Metrics
	core   *live.Core
	start  time.Time

	stop     chan struct{}
	wg       sync.WaitGroup
	shutdown sync.Once
}

var _ connector.Traces = (*flowtraceConnector)(nil)

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) (*flowtraceConnector, error) {
	lc := live.Config{Idle: cfg.Idle, MaxHeld: cfg.MaxHeld, MaxSeries: cfg.MaxSeries}
	if cfg.SLOs != "" {
		s, err := slo.LoadFile(cfg.SLOs)
		if err != nil {
			return nil, err
		}
		lc.SLOs = s
	}
	return &flowtraceConnector{cfg: cfg, logger: set.Logger, next: next, core: live.New(lc), start: time.Now(),
		stop: make(chan struct{})}, nil
}

func (c *flowtraceConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *flowtraceConnector) Start(context.Context, component.Host) error {
	c.wg.Add(1)
	go c.loop()
	return nil
}

func (c *flowtraceConnector) loop() {
	defer c.wg.Done()
	expire := time.NewTicker(min(expireEvery, c.cfg.Idle))
	defer expire.Stop()
	flush := time.NewTicker(c.cfg.FlushInterval)
	defer flush.Stop()
	for {
		select {
		case <-expire.C:
			c.core.Expire()
		case <-flush.C:
			c.flush(context.Background())
		case <-c.stop:
			return
		}
	}
}

// Shutdown analyses the traces still held and sends the metrics a last
// time.
func (c *flowtraceConnector) Shutdown(ctx context.Context) error {
	var err error
	c.shutdown.Do(func() {
		close(c.stop)
		c.wg.Wait()
		c.core.Flush()
		err = c.next.ConsumeMetrics(ctx, Metrics(c.core.Snapshot(), c.start))
	})
	return err
}

func (c *flowtraceConnector) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	spans, err := source.FromPtrace(td)
	if err != nil {
		// A span without ids cannot be assembled: the batch is
		// counted and dropped, not retried (it would fail again).
		c.core.Reject("decode", td.SpanCount())
		c.logger.Debug("dropping spans that cannot be analysed", zap.Error(err))
		return nil
	}
	c.core.Add(spans)
	return nil
}

func (c *flowtraceConnector) flush(ctx context.Context) {
	if err := c.next.ConsumeMetrics(ctx, Metrics(c.core.Snapshot(), c.start)); err != nil {
		c.logger.Warn("sending flowtrace metrics", zap.Error(err))
	}
}

// Metrics converts a snapshot to cumulative OTLP metrics: counters are
// monotonic sums, gauges gauges, histograms explicit-bucket histograms;
// an overflow series carries only otel.metric.overflow=true. Names and
// labels are already Prometheus's, so the Prometheus exporter writes them
// as `flowtrace serve` does.
func Metrics(snap *live.Snapshot, start time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "flowtrace")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(ScopeName)
	st, ts := pcommon.NewTimestampFromTime(start), pcommon.NewTimestampFromTime(snap.Time)
	for _, f := range snap.Families {
		if len(f.Series) == 0 {
			continue
		}
		m := sm.Metrics().AppendEmpty()
		m.SetName(f.Name)
		m.SetDescription(f.Help)
		attrs := func(dst pcommon.Map, s live.Series) {
			if s.Overflow {
				dst.PutStr("otel.metric.overflow", "true")
				return
			}
			for i, l := range f.Labels {
				dst.PutStr(l, s.Values[i])
			}
		}
		switch f.Type {
		case live.Counter:
			sum := m.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, s := range f.Series {
				dp := sum.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(st)
				dp.SetTimestamp(ts)
				dp.SetDoubleValue(s.Value)
				attrs(dp.Attributes(), s)
			}
		case live.Gauge:
			g := m.SetEmptyGauge()
			for _, s := range f.Series {
				dp := g.DataPoints().AppendEmpty()
				dp.SetTimestamp(ts)
				dp.SetDoubleValue(s.Value)
				attrs(dp.Attributes(), s)
			}
		case live.Histogram:
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			for _, s := range f.Series {
				dp := h.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(st)
				dp.SetTimestamp(ts)
				dp.ExplicitBounds().FromRaw(snap.Bounds)
				counts := make([]uint64, len(s.Buckets))
				prev := 0.0
				for i, c := range s.Buckets {
					counts[i] = uint64(c - prev)
					prev = c
				}
				dp.BucketCounts().FromRaw(counts)
				dp.SetCount(uint64(s.Count))
				dp.SetSum(s.Sum)
				attrs(dp.Attributes(), s)
			}
		}
	}
	return md
}
