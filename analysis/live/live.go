package live

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Defaults of a [Core].
const (
	// DefaultIdle is how long a trace receives no span before it is
	// complete: exporters send a trace's spans within seconds.
	DefaultIdle = 10 * time.Second
	// DefaultMaxHeld bounds the spans held while their traces assemble
	// (about 1 KB each).
	DefaultMaxHeld = 100_000
	// DefaultMaxSeries is the series limit of each metric family; past
	// it observations go to the family's overflow series and are counted
	// in flowtrace_series_overflow_total.
	DefaultMaxSeries = 2_000
	// DefaultMaxGraphState bounds the entries of the service-graph
	// builder (edges, peers, rpc services, held client spans); past it
	// the builder starts afresh (the series it fed are kept).
	DefaultMaxGraphState = 50_000
	// estimateRenew is how many traces an estimate accumulator sees
	// before it starts afresh, which bounds its link bookkeeping.
	estimateRenew = 1 << 20
)

// DefaultBounds are the histogram bucket bounds in seconds: those of the
// collector's servicegraph and spanmetrics connectors (2 ms to 15 s), so
// dashboards built for them read these series alike.
var DefaultBounds = []float64{0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15}

// Config configures a [Core]. The zero value uses the defaults and has no
// SLOs.
type Config struct {
	// SLOs are the SLOs whose SLI counters the core keeps (slos.yaml,
	// [slo.LoadFile]); their critical operations get fan-out gauges.
	SLOs *slo.Config
	// Idle, MaxHeld: trace assembly ([trace.WithIdle],
	// [trace.WithMaxHeld]); 0 means DefaultIdle, DefaultMaxHeld.
	Idle    time.Duration
	MaxHeld int
	// MaxSeries is the series limit per metric family (DefaultMaxSeries
	// when 0).
	MaxSeries int
	// MaxGraphState bounds the service-graph builder
	// (DefaultMaxGraphState when 0).
	MaxGraphState int
	// Bounds are the histogram bounds in seconds (DefaultBounds when nil).
	Bounds []float64
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Core is the streaming analysis core: spans in, assembled into traces in
// bounded memory, each trace fed to the tools' incremental rules
// (deps.Builder for the service graph, slo selectors for SLI events,
// estimate.Accumulator for fan-out), and series out ([Core.Snapshot]).
// It is safe for concurrent use.
type Core struct {
	mu    sync.Mutex
	cfg   Config
	now   func() time.Time
	asm   *trace.Assembler
	index *trace.SpanIndex
	graph *deps.Builder
	est   *estimate.Accumulator
	estN  int
	crit  []estimate.Demand

	edgeNodes map[deps.Node]bool // nodes of the edges counted (for the page)

	requests, failed, server, client, unpaired   *family
	calls, duration                              *family
	sloEvents, sloGood                           *family
	critTraces, fanout                           *family
	orphans, overflow                            *family
	traces, spans, split, forced, renewed, drops *family
	rejected                                     *family

	assembled trace.AssemblyStats // of assemblers before the current one
	held      *family
}

// New returns a Core.
func New(cfg Config) *Core {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.MaxHeld <= 0 {
		cfg.MaxHeld = DefaultMaxHeld
	}
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = DefaultMaxSeries
	}
	if cfg.MaxGraphState <= 0 {
		cfg.MaxGraphState = DefaultMaxGraphState
	}
	if cfg.Bounds == nil {
		cfg.Bounds = DefaultBounds
	}
	c := &Core{cfg: cfg, now: cfg.Now, index: trace.NewSpanIndex(trace.DefaultIndexSpans), edgeNodes: map[deps.Node]bool{}}
	if c.now == nil {
		c.now = time.Now
	}
	n, b := cfg.MaxSeries, cfg.Bounds
	edge := []string{"client", "server", "connection_type"}
	span := []string{"service_name", "span_name", "span_kind", "status_code"}
	c.requests = newFamily(MetricRequests, "Calls between two nodes of the service graph, weighted by 1/sampling.probability.", Counter, n, nil, edge...)
	c.failed = newFamily(MetricRequestsFailed, "Failed calls between two nodes of the service graph, weighted.", Counter, n, nil, edge...)
	c.server = newFamily(MetricServerSeconds, "Duration of the callee's side of a call (server or consumer span; the client's when the callee sends none), weighted.", Histogram, n, b, edge...)
	c.client = newFamily(MetricClientSeconds, "Duration of the caller's side of a call (client or producer span; the callee's when the caller sends none), weighted.", Histogram, n, b, edge...)
	c.unpaired = newFamily(MetricUnpaired, "Client spans without a server span although their peer names a service that sends spans (the callee did not record the call), weighted.", Counter, n, nil, "client", "server")
	c.calls = newFamily(MetricCalls, "Spans by service, name, kind and status, weighted by 1/sampling.probability.", Counter, n, nil, span...)
	c.duration = newFamily(MetricDuration, "Span duration by service, name, kind and status, weighted.", Histogram, n, b, span...)
	c.sloEvents = newFamily(MetricSLOEvents, "SLO events (spans the SLO's selector matches), weighted.", Counter, 0, nil, "slo")
	c.sloGood = newFamily(MetricSLOGood, "Good SLO events (no error, within the SLO's latency), weighted.", Counter, 0, nil, "slo")
	c.critTraces = newFamily(MetricCriticalTraces, "Traces per critical operation (by critical_operation, else by root span name, as estimate matches them), weighted.", Gauge, n, nil, "critical_operation")
	c.fanout = newFamily(MetricFanout, "Receiving spans of a service operation per trace of a critical operation: what flowtrace estimate multiplies a forecast by.", Gauge, n, nil, "critical_operation", "service", "operation")
	c.orphans = newFamily(MetricOrphans, "Spans whose parent is not in their trace, weighted.", Counter, n, nil, "service")
	c.overflow = newFamily(MetricOverflow, "Observations counted in a family's overflow series because it reached its series limit.", Counter, 0, nil, "metric")
	c.traces = newFamily(MetricTraces, "Traces assembled.", Counter, 0, nil)
	c.spans = newFamily(MetricSpans, "Spans received.", Counter, 0, nil)
	c.split = newFamily(MetricSplit, "Trace pieces assembled after their trace had closed (a span arrived later than the idle time).", Counter, 0, nil)
	c.forced = newFamily(MetricForced, "Traces closed early because the held-span bound was reached.", Counter, 0, nil)
	c.renewed = newFamily(MetricRenewed, "Times the service-graph builder started afresh at its state bound.", Counter, 0, nil)
	c.drops = newFamily(MetricDropped, "Spans dropped before analysis, by reason (decode).", Counter, 0, nil, "reason")
	c.rejected = newFamily(MetricRejected, "Export requests a receiver refused, by reason (decode, limit).", Counter, 0, nil, "reason")
	c.held = newFamily(MetricHeld, "Spans held while their traces assemble.", Gauge, 0, nil)
	c.newAssembler()
	c.graph = c.newGraph()
	if cfg.SLOs != nil {
		seen := map[string]bool{}
		for _, s := range cfg.SLOs.SLOs {
			if s.CriticalOperation != "" && !seen[s.CriticalOperation] {
				seen[s.CriticalOperation] = true
				c.crit = append(c.crit, estimate.Demand{Key: s.CriticalOperation, PerSecond: 1})
			}
		}
		for _, s := range cfg.SLOs.SLOs {
			c.sloEvents.add(0, s.Name)
			c.sloGood.add(0, s.Name)
		}
	}
	c.est = estimate.NewAccumulator(c.crit, c.index)
	return c
}

// Metric family names. The service-graph and span families are those of
// the OpenTelemetry Collector's servicegraph and spanmetrics connectors
// (contrib v0.165.1, as the Prometheus exporter writes them); the SLI
// counters are the ones `flowtrace slo rules` reads.
const (
	MetricRequests       = "traces_service_graph_request_total"
	MetricRequestsFailed = "traces_service_graph_request_failed_total"
	MetricServerSeconds  = "traces_service_graph_request_server_seconds"
	MetricClientSeconds  = "traces_service_graph_request_client_seconds"
	MetricUnpaired       = "flowtrace_service_graph_unpaired_spans_total"
	MetricCalls          = "traces_span_metrics_calls_total"
	MetricDuration       = "traces_span_metrics_duration_seconds"
	MetricSLOEvents      = "flowtrace_slo_events_total"
	MetricSLOGood        = "flowtrace_slo_good_events_total"
	MetricCriticalTraces = "flowtrace_critical_operation_traces"
	MetricFanout         = "flowtrace_fanout"
	MetricOrphans        = "flowtrace_orphan_spans_total"
	MetricOverflow       = "flowtrace_series_overflow_total"
	MetricTraces         = "flowtrace_traces_total"
	MetricSpans          = "flowtrace_spans_total"
	MetricSplit          = "flowtrace_assembly_split_total"
	MetricForced         = "flowtrace_assembly_forced_total"
	MetricRenewed        = "flowtrace_service_graph_renewed_total"
	MetricDropped        = "flowtrace_dropped_spans_total"
	MetricRejected       = "flowtrace_rejected_requests_total"
	MetricHeld           = "flowtrace_spans_held"
)

// Connection types of the service-graph series, as the servicegraph
// connector names them ("" for a direct call between two services).
const (
	ConnDirect    = ""
	ConnVirtual   = "virtual_node"
	ConnDatabase  = "database"
	ConnMessaging = "messaging_system"
)

func (c *Core) newAssembler() {
	c.asm = trace.NewAssembler(c.consume, trace.WithIdle(c.cfg.Idle, c.now), trace.WithMaxHeld(c.cfg.MaxHeld),
		trace.WithWindow(c.cfg.MaxHeld))
}

func (c *Core) newGraph() *deps.Builder {
	b := deps.NewBuilder(c.index)
	b.Observe(c.edge)
	return b
}

// Add adds spans as they arrive; traces that are complete are analysed.
func (c *Core) Add(spans []*trace.Span) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spans.add(float64(len(spans)))
	for _, s := range spans {
		c.index.Add(s)
		c.asm.Add(s)
	}
}

// Reject counts a request a receiver refused for reason ("decode",
// "limit") and the spans it held, when known.
func (c *Core) Reject(reason string, spans int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejected.add(1, reason)
	if spans > 0 {
		c.drops.add(float64(spans), reason)
	}
}

// SLO is one SLO with its counters so far, for a table.
type SLO struct {
	slo.SLO
	Total, Good float64 // weighted events
}

// SLOs returns the configured SLOs with their counters, in file order.
func (c *Core) SLOs() []SLO {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.SLOs == nil {
		return nil
	}
	var out []SLO
	for _, s := range c.cfg.SLOs.SLOs {
		out = append(out, SLO{SLO: s, Total: c.sloEvents.get(s.Name).value, Good: c.sloGood.get(s.Name).value})
	}
	return out
}

// Expire analyses the traces idle for the idle time; call it
// periodically (Run does).
func (c *Core) Expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asm.Expire()
}

// Flush analyses every trace held, complete or not (at shutdown, or in
// tests).
func (c *Core) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asm.Close()
	st := c.asm.Stats()
	c.assembled.Split += st.Split
	c.assembled.Forced += st.Forced
	c.newAssembler()
}

// consume analyses one complete trace (under c.mu, from the assembler).
func (c *Core) consume(t *trace.Trace) {
	c.traces.add(1)
	if c.graph.Held() > c.cfg.MaxGraphState {
		c.graph = c.newGraph()
		c.renewed.add(1)
	}
	c.graph.Add(t)
	for _, s := range t.Spans {
		w := t.SpanWeight(s)
		status := "STATUS_CODE_UNSET"
		if s.Error {
			status = "STATUS_CODE_ERROR"
		}
		kind := spanKind(s.Kind)
		c.calls.add(w, s.Service, s.Name, kind, status)
		c.duration.observe(s.Duration().Seconds(), w, s.Service, s.Name, kind, status)
	}
	for _, s := range t.Orphans() {
		c.orphans.add(t.SpanWeight(s), s.Service)
	}
	if c.cfg.SLOs != nil {
		one := []*trace.Trace{t}
		for _, s := range c.cfg.SLOs.SLOs {
			for _, e := range slo.Events(s, one) {
				c.sloEvents.add(e.Weight, s.Name)
				if !e.Bad {
					c.sloGood.add(e.Weight, s.Name)
				}
			}
		}
	}
	if len(c.crit) > 0 {
		if c.estN >= estimateRenew {
			c.est, c.estN = estimate.NewAccumulator(c.crit, c.index), 0
		}
		c.est.Add(t)
		c.estN++
	}
}

func spanKind(k trace.Kind) string {
	switch k {
	case trace.KindInternal:
		return "SPAN_KIND_INTERNAL"
	case trace.KindServer:
		return "SPAN_KIND_SERVER"
	case trace.KindClient:
		return "SPAN_KIND_CLIENT"
	case trace.KindProducer:
		return "SPAN_KIND_PRODUCER"
	case trace.KindConsumer:
		return "SPAN_KIND_CONSUMER"
	}
	return "SPAN_KIND_UNSPECIFIED"
}

// edge counts one call the service-graph builder found.
func (c *Core) edge(o deps.Observed) {
	if o.To == (deps.Node{}) { // unresolved: the peer names nothing known
		c.unpaired.add(o.Weight, o.From.Name, "")
		return
	}
	if o.Unpaired {
		c.unpaired.add(o.Weight, o.From.Name, o.To.Name)
	}
	conn := ConnDirect
	switch {
	case o.Type == deps.Kafka || o.From.Kind == deps.Topic || o.To.Kind == deps.Topic:
		conn = ConnMessaging
	case o.To.Kind == deps.Peer && o.Client != nil && isDatabase(o.Client):
		conn = ConnDatabase
	case o.To.Kind == deps.Peer || o.From.Kind == deps.User || o.Unpaired:
		conn = ConnVirtual
	}
	var cs, ss float64
	switch {
	case o.Client != nil && o.Server != nil:
		cs, ss = o.Client.Duration().Seconds(), o.Server.Duration().Seconds()
	case o.Client != nil:
		cs = o.Client.Duration().Seconds()
		ss = cs
	case o.Server != nil:
		ss = o.Server.Duration().Seconds()
		cs = ss
	}
	if len(c.edgeNodes) < c.cfg.MaxSeries {
		c.edgeNodes[o.From], c.edgeNodes[o.To] = true, true
	}
	from, to := o.From.Name, o.To.Name
	c.requests.add(o.Weight, from, to, conn)
	if o.Failed {
		c.failed.add(o.Weight, from, to, conn)
	}
	c.server.observe(ss, o.Weight, from, to, conn)
	c.client.observe(cs, o.Weight, from, to, conn)
}

// isDatabase reports whether a client span calls a database (either
// attribute vocabulary).
func isDatabase(s *trace.Span) bool {
	return s.Str("db.system.name") != "" || s.Str("db.system") != ""
}

// Snapshot is the core's series at one moment.
type Snapshot struct {
	Time     time.Time
	Bounds   []float64 // histogram bucket bounds, seconds
	Families []Family
	// Nodes are the service-graph nodes seen (for a diagram), sorted.
	Nodes []deps.Node
}

// Snapshot returns the series so far.
func (c *Core) Snapshot() *Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.asm.Stats()
	c.split.set(float64(c.assembled.Split + st.Split))
	c.forced.set(float64(c.assembled.Forced + st.Forced))
	c.held.set(float64(c.asm.Held()))
	if len(c.crit) > 0 {
		e := c.est.Estimate()
		for _, op := range e.Operations {
			c.critTraces.set(op.Weighted, op.Key)
			for _, f := range op.Fanout {
				c.fanout.set(f.PerTrace, op.Key, f.Service, f.Operation)
			}
		}
	}
	fams := []*family{c.requests, c.failed, c.server, c.client, c.unpaired, c.calls, c.duration,
		c.sloEvents, c.sloGood, c.critTraces, c.fanout, c.orphans}
	for _, f := range fams {
		if f.dropped > 0 {
			c.overflow.set(f.dropped, f.name)
		}
	}
	fams = append(fams, c.overflow, c.traces, c.spans, c.split, c.forced, c.renewed, c.drops, c.rejected, c.held)
	snap := &Snapshot{Time: c.now(), Bounds: slices.Clone(c.cfg.Bounds)}
	for _, f := range fams {
		snap.Families = append(snap.Families, f.snapshot())
	}
	for n := range c.edgeNodes {
		snap.Nodes = append(snap.Nodes, n)
	}
	sort.Slice(snap.Nodes, func(i, j int) bool {
		a, b := snap.Nodes[i], snap.Nodes[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	return snap
}

// Family returns the family named name, or nil.
func (s *Snapshot) Family(name string) *Family {
	for i := range s.Families {
		if s.Families[i].Name == name {
			return &s.Families[i]
		}
	}
	return nil
}
