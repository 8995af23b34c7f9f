package soak

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/tracetest"
)

var (
	flagDuration  = flag.Duration("soak.duration", 0, "length of the traced phase (default 20s, 6s with -short)")
	flagLong      = flag.Bool("soak.long", false, "long mode: assert latency (traced p99 <= 2x untraced p99 + 1ms) and print a Markdown table; never in CI")
	flagRate      = flag.Int("soak.rate", 400, "HTTP requests per second; each makes one gRPC call")
	flagKafkaRate = flag.Int("soak.kafka-rate", 400, "Kafka messages per second, written in batches of 10")
)

const (
	httpWorkers   = 8
	kafkaWorkers  = 2
	kafkaBatch    = 10
	flipMin       = time.Second
	flipMax       = 2 * time.Second
	shutdownLimit = 2 * time.Second
	// heapSlack is what the heap may grow by, after runtime.GC, beyond the
	// sum of the pipelines' queue bounds (which count estimated, not
	// allocated, bytes): per pipeline the batch being exported, its OTLP
	// conversion arenas and gRPC's pooled encoding buffer (1 MiB class);
	// connections and their buffers, requests in flight, the broker's
	// retained log and the receiver's request buffers. Measured: 12–21 MiB.
	heapSlack = 32 << 20
	// leakSlack is how much the lowest heap after GC of the last third of a
	// long run may exceed that of the first third: a leak raises the floor
	// however the collector behaves. Checked for runs of minLeakRun or more.
	leakSlack  = 4 << 20
	minLeakRun = 2 * time.Minute
	// kafkaRetention bounds the orders topic, so that the in-process broker
	// does not grow the heap for as long as the soak runs.
	kafkaRetention = 1 << 20
)

// behaviours is the cycle the chaos receiver goes through, in this order
// (so every behaviour is met within the first ~11 s).
var behaviours = [...]tracetest.Behavior{
	tracetest.Healthy(),
	tracetest.SlowRandom(50*time.Millisecond, 400*time.Millisecond),
	tracetest.Hang(),
	tracetest.Throttle(300 * time.Millisecond),
	tracetest.Unavailable(300 * time.Millisecond),
	tracetest.Reset(),
	tracetest.PartialSuccess(3, "soak: span rejected"),
}

func soakDuration() time.Duration {
	switch {
	case *flagDuration > 0:
		return *flagDuration
	case testing.Short():
		return 6 * time.Second
	}
	return 20 * time.Second
}

// TestSoak: traced HTTP, gRPC and Kafka traffic while the collector flips
// between behaviours. See the package documentation.
func TestSoak(t *testing.T) {
	traced := soakDuration()
	baseline := min(max(traced/5, 3*time.Second), time.Minute)
	g0 := runtime.NumGoroutine()

	rcv, err := tracetest.NewChaosReceiver(tracetest.WithMaxSpans(1))
	if err != nil {
		t.Fatal(err)
	}
	broker, err := kafkatest.Start(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"orders-baseline", "orders"} {
		if err := broker.Cluster().CreateTopic(topic, 1, map[string]string{
			"retention.bytes": fmt.Sprint(kafkaRetention),
			"segment.bytes":   fmt.Sprint(kafkaRetention / 4), // retention deletes whole segments
		}); err != nil {
			t.Fatal(err)
		}
	}

	// Phase 1: the same load without tracing, for the latency baseline.
	plain := newStack(t, false, broker.Addr(), "orders-baseline", "", httpWorkers)
	plainElapsed := runLoad(t, plain, baseline, nil)
	if err := plain.drain(10 * time.Second); err != nil {
		t.Error("untraced:", err)
	}
	if err := plain.closeServices(); err != nil {
		t.Error("untraced: closing services:", err)
	}
	checkUserOutcomes(t, "untraced", plain)

	// Phase 2: traced, with the collector misbehaving.
	st := newStack(t, true, broker.Addr(), "orders", rcv.GRPCEndpoint(), httpWorkers)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBase := ms.HeapAlloc

	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	flips := &flipLog{}
	st.c.flips = flips
	bg.Go(func() { flipChaos(ctx, rcv, flips) })
	mem := &memSampler{afterGC: make([]uint64, 0, int(traced/gcEvery)+8)}
	bg.Go(func() { mem.run(ctx, broker) })
	tracedElapsed := runLoad(t, st, traced, mem)
	cancel()
	bg.Wait()

	if err := st.drain(10 * time.Second); err != nil {
		t.Error("traced:", err)
	}
	// The heap once the load stopped, with the queues as the last
	// behaviour left them.
	broker.Cluster().ApplyRetention()
	mem.gcSample()
	if err := st.closeServices(); err != nil {
		t.Error("traced: closing services:", err)
	}
	checkUserOutcomes(t, "traced", st)

	// Shut the pipelines down against a hung collector: Shutdown must
	// return by its deadline and count what it abandons.
	rcv.SetBehavior(tracetest.Hang())
	took, errs := st.shutdownTracing(shutdownLimit)
	if took > shutdownLimit+time.Second {
		t.Errorf("Shutdown took %v with a %v deadline", took, shutdownLimit)
	}
	for name, err := range errs {
		if err != nil {
			t.Logf("%s: Shutdown: %v", name, err)
		}
	}
	totals := checkAccounting(t, st, rcv)

	// Everything the test started is stopped: no goroutine is left.
	if err := rcv.Close(); err != nil {
		t.Error("receiver close:", err)
	}
	broker.Close()
	gEnd := waitGoroutines(g0, 5*time.Second)
	if gEnd > g0 {
		t.Errorf("goroutines: %d at start, %d after shutdown", g0, gEnd)
	}
	goleak.VerifyNone(t)

	// Memory: after runtime.GC, the heap grew by no more than the queue
	// bounds plus a fixed slack.
	capBytes := st.queueBytesCap()
	growth := int64(mem.maxAfterGC.Load()) - int64(heapBase)
	if growth > capBytes+heapSlack {
		t.Errorf("heap after GC grew by %s (base %s, max %s); bound: queues %s + slack %s",
			mib(growth), mib(int64(heapBase)), mib(int64(mem.maxAfterGC.Load())), mib(capBytes), mib(heapSlack))
	}

	if traced >= minLeakRun {
		first, last := mem.floors()
		if last > first+leakSlack {
			t.Errorf("heap after GC: lowest %s in the first third, %s in the last: it grows with time", mib(first), mib(last))
		}
	}

	r := report{
		traced: tracedElapsed, baseline: plainElapsed, plain: plain.c, st: st.c,
		totals: totals, heapBase: heapBase, mem: mem, capBytes: capBytes,
		g0: g0, gEnd: gEnd, shutdown: took, flips: flips, received: rcv.SpanCount() + int(rcv.DroppedSpans()),
	}
	r.log(t)

	if *flagLong {
		tp99, up99 := st.c.httpLatency.quantile(0.99), plain.c.httpLatency.quantile(0.99)
		if tp99 > 2*up99+time.Millisecond {
			t.Errorf("HTTP p99: traced %v > 2 × untraced %v + 1ms", tp99, up99)
		}
	}
}

// runLoad drives the stack at the configured rates for d and returns how
// long the load ran. Every loop is bounded in time and in count.
func runLoad(t *testing.T, s *stack, d time.Duration, mem *memSampler) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	httpEvery := time.Duration(httpWorkers) * time.Second / time.Duration(max(*flagRate, 1))
	kafkaEvery := time.Duration(kafkaWorkers*kafkaBatch) * time.Second / time.Duration(max(*flagKafkaRate, 1))
	for range httpWorkers {
		wg.Go(func() { pace(ctx, httpEvery, d, func() { s.request(context.Background()) }) })
	}
	for range kafkaWorkers {
		wg.Go(func() { pace(ctx, kafkaEvery, d, func() { s.produce(context.Background(), kafkaBatch) }) })
	}
	if mem != nil {
		wg.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					mem.goroutines(runtime.NumGoroutine())
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// pace calls fn every interval until ctx ends, and at most d/every+1 times.
// A caller that falls more than a second behind skips ahead instead of
// bursting.
func pace(ctx context.Context, every, d time.Duration, fn func()) {
	limit := int(d/every) + 1
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	next := time.Now()
	for range limit {
		if ctx.Err() != nil {
			return
		}
		fn()
		next = next.Add(every)
		wait := time.Until(next)
		if wait < -time.Second {
			next = time.Now()
			continue
		}
		if wait <= 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

func checkUserOutcomes(t *testing.T, phase string, s *stack) {
	t.Helper()
	c := s.c
	if n := c.httpFailed.Load() + c.grpcFailed.Load() + c.produceFailed.Load() + c.consumeFailed.Load() + c.duplicates.Load(); n > 0 {
		t.Errorf("%s: %d failed user operations (http %d, grpc %d, kafka produce %d, consume %d, duplicates %d); first: %v",
			phase, n, c.httpFailed.Load(), c.grpcFailed.Load(), c.produceFailed.Load(), c.consumeFailed.Load(), c.duplicates.Load(), c.err())
	}
	if c.httpOK.Load() == 0 || c.produced.Load() == 0 {
		t.Errorf("%s: no traffic (http %d, kafka %d)", phase, c.httpOK.Load(), c.produced.Load())
	}
	if c.grpcOK.Load() != c.httpOK.Load() {
		t.Errorf("%s: %d HTTP requests succeeded but %d gRPC calls", phase, c.httpOK.Load(), c.grpcOK.Load())
	}
	if c.processed.Load() != c.produced.Load() {
		t.Errorf("%s: %d Kafka messages produced, %d processed", phase, c.produced.Load(), c.processed.Load())
	}
}

// pipelineStats is one pipeline's counters after Shutdown.
type pipelineStats struct {
	name string
	s    flowtrace.Stats
}

// checkAccounting asserts, for every pipeline, that each sampled span
// finished was exported or dropped with a reason, and that the collector got
// at least every span counted as exported.
func checkAccounting(t *testing.T, s *stack, rcv *tracetest.ChaosReceiver) []pipelineStats {
	t.Helper()
	var out []pipelineStats
	var exported int64
	for _, name := range s.services {
		st := s.tracings[name].Stats()
		out = append(out, pipelineStats{name, st})
		e := st.Export
		// finished = exported + dropped + unconfirmed
		if int64(st.Tracer.Finished) != e.Exported+e.Dropped()+e.Unconfirmed {
			t.Errorf("%s: finished %d != exported %d + dropped %d + unconfirmed %d (%+v)", name, st.Tracer.Finished, e.Exported, e.Dropped(), e.Unconfirmed, e)
		}
		if st.Tracer.Finished == 0 {
			t.Errorf("%s: no span finished", name)
		}
		if e.QueueLen != 0 || e.QueueBytes != 0 {
			t.Errorf("%s: queue holds %d spans (%d bytes) after Shutdown", name, e.QueueLen, e.QueueBytes)
		}
		exported += e.Exported
	}
	if got := int64(rcv.SpanCount()) + rcv.DroppedSpans(); got < exported {
		t.Errorf("the collector received %d spans, fewer than the %d counted as exported", got, exported)
	}
	return out
}

func waitGoroutines(want int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flipLog records the behaviours the chaos receiver went through.
type flipLog struct {
	current atomic.Int32 // index into behaviours
	mu      sync.Mutex
	spent   map[string]time.Duration
	n       int
}

func (f *flipLog) add(b tracetest.Behavior, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spent == nil {
		f.spent = map[string]time.Duration{}
	}
	f.spent[b.String()] += d
	f.n++
}

func (f *flipLog) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for _, b := range behaviours {
		if d, ok := f.spent[b.String()]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1fs", b, d.Seconds()))
		}
	}
	return fmt.Sprintf("%d flips: %s", f.n, strings.Join(parts, ", "))
}

// flipChaos switches rcv through behaviours, each for 1–2 s, until ctx ends.
func flipChaos(ctx context.Context, rcv *tracetest.ChaosReceiver, log *flipLog) {
	rng := rand.New(rand.NewPCG(10, 10))
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; ; i++ {
		b := behaviours[i%len(behaviours)]
		rcv.SetBehavior(b)
		log.current.Store(int32(i % len(behaviours)))
		d := flipMin + time.Duration(rng.Int64N(int64(flipMax-flipMin)))
		start := time.Now()
		timer.Reset(d)
		select {
		case <-ctx.Done():
			log.add(b, time.Since(start))
			rcv.SetBehavior(tracetest.Healthy())
			log.current.Store(0)
			return
		case <-timer.C:
			log.add(b, time.Since(start))
		}
	}
}

// gcEvery is how often memSampler measures the heap after runtime.GC.
const gcEvery = 2 * time.Second

// memSampler samples the heap every 100 ms (peak) and, every gcEvery,
// after runtime.GC (what is live).
type memSampler struct {
	peak, maxAfterGC atomic.Uint64
	peakGoroutines   atomic.Int64
	samples          atomic.Int64

	mu      sync.Mutex
	afterGC []uint64 // allocated before the heap baseline; never grown past its capacity
}

// floors returns the lowest heap after GC of the first and of the last
// third of the samples, leaving out the first tenth (connections, pools and
// conversion arenas still warming up).
func (m *memSampler) floors() (first, last int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	samples := m.afterGC[len(m.afterGC)/10:]
	n := len(samples) / 3
	if n == 0 {
		return 0, 0
	}
	low := func(xs []uint64) int64 {
		v := xs[0]
		for _, x := range xs {
			v = min(v, x)
		}
		return int64(v)
	}
	return low(samples[:n]), low(samples[len(samples)-n:])
}

func (m *memSampler) run(ctx context.Context, broker *kafkatest.Broker) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var ms runtime.MemStats
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if i%int(gcEvery/(100*time.Millisecond)) == 0 {
			broker.Cluster().ApplyRetention()
			m.gcSample()
			continue
		}
		runtime.ReadMemStats(&ms)
		m.peakHeap(ms.HeapAlloc)
	}
}

func (m *memSampler) gcSample() {
	// Twice: the first GC moves sync.Pool caches (gRPC's buffer pools) to
	// their victim cache, the second frees them.
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.peakHeap(ms.HeapAlloc)
	m.samples.Add(1)
	m.mu.Lock()
	if len(m.afterGC) < cap(m.afterGC) {
		m.afterGC = append(m.afterGC, ms.HeapAlloc)
	}
	m.mu.Unlock()
	for {
		old := m.maxAfterGC.Load()
		if ms.HeapAlloc <= old || m.maxAfterGC.CompareAndSwap(old, ms.HeapAlloc) {
			return
		}
	}
}

func (m *memSampler) peakHeap(v uint64) {
	for {
		old := m.peak.Load()
		if v <= old || m.peak.CompareAndSwap(old, v) {
			return
		}
	}
}

func (m *memSampler) goroutines(n int) {
	for {
		old := m.peakGoroutines.Load()
		if int64(n) <= old || m.peakGoroutines.CompareAndSwap(old, int64(n)) {
			return
		}
	}
}

func mib[T int64 | uint64 | int](n T) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// report is what TestSoak measured.
type report struct {
	traced, baseline time.Duration
	plain, st        *counters
	totals           []pipelineStats
	heapBase         uint64
	mem              *memSampler
	capBytes         int64
	g0, gEnd         int
	shutdown         time.Duration
	flips            *flipLog
	received         int
}

func (r report) log(t *testing.T) {
	t.Helper()
	var finished uint64
	var sum flowtrace.Stats
	for _, p := range r.totals {
		e := p.s.Export
		t.Logf("%-21s finished %7d  exported %7d  queue_full %6d  export_failed %6d  rejected %5d  at_shutdown %5d  after_shutdown %d",
			p.name, p.s.Tracer.Finished, e.Exported, e.DroppedQueueFull, e.DroppedExportFailed, e.DroppedRejected, e.DroppedAtShutdown, e.DroppedAfterShutdown)
		finished += p.s.Tracer.Finished
		sum.Export.Exported += e.Exported
		sum.Export.DroppedQueueFull += e.DroppedQueueFull
		sum.Export.DroppedExportFailed += e.DroppedExportFailed
		sum.Export.DroppedRejected += e.DroppedRejected
		sum.Export.DroppedAtShutdown += e.DroppedAtShutdown
		sum.Export.DroppedAfterShutdown += e.DroppedAfterShutdown
	}
	secs := r.traced.Seconds()
	e := sum.Export
	t.Logf("traced phase %v, %s; untraced baseline %v", r.traced.Round(time.Millisecond), r.flips, r.baseline.Round(time.Millisecond))
	t.Logf("spans: %d finished (%.0f/s), %d exported (%.0f/s), %d received by the collector; dropped: queue_full %d, export_failed %d, rejected %d, at_shutdown %d, after_shutdown %d",
		finished, float64(finished)/secs, e.Exported, float64(e.Exported)/secs, r.received,
		e.DroppedQueueFull, e.DroppedExportFailed, e.DroppedRejected, e.DroppedAtShutdown, e.DroppedAfterShutdown)
	t.Logf("user operations: traced http %d (%.0f/s), kafka %d (%.0f/s); untraced http %d, kafka %d; 0 failed",
		r.st.httpOK.Load(), float64(r.st.httpOK.Load())/secs, r.st.processed.Load(), float64(r.st.processed.Load())/secs,
		r.plain.httpOK.Load(), r.plain.processed.Load())
	first, last := r.mem.floors()
	t.Logf("heap: base %s, peak %s, max after GC %s (growth %s; bound: queues %s + slack %s); %d GC samples, lowest %s in the first third, %s in the last",
		mib(r.heapBase), mib(r.mem.peak.Load()), mib(r.mem.maxAfterGC.Load()),
		mib(int64(r.mem.maxAfterGC.Load())-int64(r.heapBase)), mib(r.capBytes), mib(int64(heapSlack)), r.mem.samples.Load(), mib(first), mib(last))
	t.Logf("goroutines: %d at start, peak %d, %d after shutdown; Shutdown against a hung collector took %v",
		r.g0, r.mem.peakGoroutines.Load(), r.gEnd, r.shutdown.Round(time.Millisecond))
	lat := func(h *histogram) string {
		return fmt.Sprintf("p50 %v p99 %v max %v (n=%d)", h.quantile(0.5), h.quantile(0.99), h.quantile(1), h.count())
	}
	t.Logf("HTTP→gRPC request latency: untraced %s; traced %s", lat(&r.plain.httpLatency), lat(&r.st.httpLatency))
	t.Logf("Kafka produce→process latency: untraced %s; traced %s", lat(&r.plain.kafkaLatency), lat(&r.st.kafkaLatency))
	for i, b := range behaviours {
		if r.st.httpByBehaviour[i].count() > 0 {
			t.Logf("  while %-15s HTTP→gRPC %s; Kafka %s", b, lat(&r.st.httpByBehaviour[i]), lat(&r.st.kafkaByBehaviour[i]))
		}
	}
	if !*flagLong {
		return
	}
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	b.WriteString("\n| Measure | Value |\n|---|---|\n")
	row("Traced phase", fmt.Sprintf("%v (%s)", r.traced.Round(time.Second), r.flips))
	row("Spans finished / s", fmt.Sprintf("%.0f", float64(finished)/secs))
	row("Spans exported / s", fmt.Sprintf("%.0f", float64(e.Exported)/secs))
	row("Dropped: queue full", fmt.Sprint(e.DroppedQueueFull))
	row("Dropped: export failed", fmt.Sprint(e.DroppedExportFailed))
	row("Dropped: rejected (partial success)", fmt.Sprint(e.DroppedRejected))
	row("Dropped: at / after shutdown", fmt.Sprintf("%d / %d", e.DroppedAtShutdown, e.DroppedAfterShutdown))
	row("Peak heap (sampled)", mib(r.mem.peak.Load()))
	row("Heap after GC: base / max", mib(r.heapBase)+" / "+mib(r.mem.maxAfterGC.Load()))
	row("Goroutines: start / peak / end", fmt.Sprintf("%d / %d / %d", r.g0, r.mem.peakGoroutines.Load(), r.gEnd))
	row("HTTP→gRPC p50 untraced / traced", fmt.Sprintf("%v / %v", r.plain.httpLatency.quantile(0.5), r.st.httpLatency.quantile(0.5)))
	row("HTTP→gRPC p99 untraced / traced", fmt.Sprintf("%v / %v", r.plain.httpLatency.quantile(0.99), r.st.httpLatency.quantile(0.99)))
	row("Kafka p50 untraced / traced", fmt.Sprintf("%v / %v", r.plain.kafkaLatency.quantile(0.5), r.st.kafkaLatency.quantile(0.5)))
	row("Kafka p99 untraced / traced", fmt.Sprintf("%v / %v", r.plain.kafkaLatency.quantile(0.99), r.st.kafkaLatency.quantile(0.99)))
	names := make([]string, 0, len(r.totals))
	for _, p := range r.totals {
		names = append(names, p.name)
	}
	sort.Strings(names)
	row("Pipelines", strings.Join(names, ", "))
	t.Log(b.String())
}
