// Command shop is the org's world in miniature: an edge gateway, a catalog
// (HTTP), a cart and an order service (gRPC), an orders topic on an
// in-process Kafka broker and a payment consumer, each its own process, all
// on 127.0.0.1. A load generator drives browse, search, add-to-cart and
// checkout traffic; at the end the demo prints one checkout trace, the
// service diagram, the golden signals and a traffic estimate, and writes
// the spans to a file that `flowtrace deps|red|slo|estimate` read.
//
// Browse, add-to-cart and checkout are critical operations, whose traces
// the edge forces into sampling; search is sampled by OTEL_TRACES_SAMPLER
// alone, so under a ratio sampler the tools weight its spans.
//
// Each service re-executes this binary with its own environment
// (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, the collector endpoint), so
// flowtrace configures itself exactly as in production. With
// OTEL_EXPORTER_OTLP_ENDPOINT set, spans go to that collector instead of
// the embedded receiver.
package main

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/analysis/coverage"
	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/live/serve"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/red"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/internal/waterfall"
	"github.com/flowtrace/flowtrace/tracetest"
)

func main() {
	if role := os.Getenv(envRole); role != "" {
		if err := runService(role); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
			os.Exit(1)
		}
		return
	}
	var opts options
	flag.DurationVar(&opts.duration, "duration", 4*time.Second, "how long the load generator runs")
	flag.IntVar(&opts.rate, "rate", 60, "requests per second the load generator sends")
	flag.StringVar(&opts.out, "out", "shop-spans.jsonl", "where to write the collected spans (OTLP JSON lines)")
	flag.StringVar(&opts.forecast, "forecast", "browse=30000/s,add-to-cart=4000/s,checkout=1200/s", "edge forecast for the traffic estimate")
	flag.BoolVar(&opts.serve, "serve", false, "keep the shop running under load, its spans analysed live by flowtrace serve (page, /metrics) until interrupted")
	flag.StringVar(&opts.serveAddr, "serve-addr", serve.DefaultHTTPAddr, "with --serve: the live view's listen `address`")
	flag.StringVar(&opts.uninstrumented, "uninstrumented", "", "run `service` (edge, catalog, cart, order or payment) with tracing disabled (OTEL_SDK_DISABLED=true), to see the coverage report find it")
	flag.Parse()
	ctx := context.Background()
	if opts.serve {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	if err := run(ctx, opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

type options struct {
	duration time.Duration
	rate     int
	out      string
	forecast string
	// mix is the share of each route in the load (nil: defaultMix).
	mix []route
	// serve keeps the shop under load until ctx ends, its spans going to
	// an in-process flowtrace serve listening on serveAddr.
	serve     bool
	serveAddr string
	// uninstrumented names a service run with OTEL_SDK_DISABLED=true: it
	// propagates context but records no spans, as an uninstrumented
	// service would look to its neighbours.
	uninstrumented string
}

// route is one kind of user request and its share of the load.
type route struct {
	method, path string
	share        int
}

// name is how the edge names the route's spans.
func (r route) name() string { return r.method + " " + r.path }

// defaultMix: mostly browsing and searching, some carts, a few checkouts.
// Search is not a critical operation, so it is the traffic that ratio
// sampling thins out and that tools weight.
var defaultMix = []route{
	{http.MethodGet, "/browse", 35},
	{http.MethodGet, "/search", 25},
	{http.MethodPost, "/cart/add", 25},
	{http.MethodPost, "/checkout", 15},
}

// result is what a run of the demo did.
type result struct {
	// sent counts the requests of each route ("GET /browse") the load
	// generator sent.
	sent   map[string]int64
	failed int64
}

// shopProcesses are the shop's processes, callees first, with the team
// that owns each: the ownership the coverage report reads.
var shopProcesses = []service{
	{role: "payment", name: "payment", team: "payments"},
	{role: "order", name: "order", team: "checkout"},
	{role: "cart", name: "cart", team: "checkout"},
	{role: "catalog", name: "catalog", team: "discovery"},
	{role: "edge", name: "edge", team: "edge"},
}

// service is one child process.
type service struct {
	role, name, team string
	cmd              *exec.Cmd
	addr             string
	done             chan error
}

func run(ctx context.Context, opts options, stdout, stderr io.Writer) error {
	_, err := runShop(ctx, opts, stdout, stderr)
	return err
}

func runShop(ctx context.Context, opts options, stdout, stderr io.Writer) (res result, _ error) {
	// The children's output and ours share stderr: one lock for all.
	raw := stderr
	stderr = &prefixed{mu: &stderrMu, w: raw}
	endpoint := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	var rcv *tracetest.Receiver
	if opts.serve {
		srv, err := startServe(opts.serveAddr, stdout)
		if err != nil {
			return res, err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		endpoint = "http://" + srv.GRPCAddr()
	} else if endpoint == "" {
		var err error
		if rcv, err = tracetest.NewReceiver(); err != nil {
			return res, err
		}
		defer rcv.Close()
		endpoint = rcv.GRPCEndpoint()
		fmt.Fprintf(stderr, "embedded OTLP receiver on %s\n", endpoint)
	}
	broker, err := kafkatest.Start(1, ordersTopic)
	if err != nil {
		return res, fmt.Errorf("starting the Kafka broker: %w", err)
	}
	defer broker.Close()
	fmt.Fprintf(stderr, "in-process Kafka broker on %s\n", broker.Addr())

	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	env := map[string]string{envBrokers: broker.Addr()}
	var started []*service
	defer func() { stopAll(started, stderr) }()
	if opts.uninstrumented != "" && !slices.ContainsFunc(shopProcesses, func(s service) bool { return s.name == opts.uninstrumented }) {
		return res, fmt.Errorf("--uninstrumented %q: not a service of the shop", opts.uninstrumented)
	}
	// Callees first, so that each caller learns its callees' addresses.
	for _, proto := range shopProcesses {
		s := &proto
		extra := env
		if s.name == opts.uninstrumented {
			extra = maps.Clone(env)
			extra["OTEL_SDK_DISABLED"] = "true"
			fmt.Fprintf(stderr, "%s runs with tracing disabled (--uninstrumented)\n", s.name)
		}
		if err := start(ctx, self, s, endpoint, extra, raw); err != nil {
			return res, err
		}
		started = append(started, s)
		env["SHOP_"+strings.ToUpper(s.role)+"_ADDR"] = s.addr
	}
	edge := "http://" + env["SHOP_EDGE_ADDR"]
	if opts.serve {
		return res, serveLoad(ctx, edge, opts, stderr)
	}
	res.sent, res.failed = generateLoad(ctx, edge, opts, stderr)
	total := int64(0)
	for _, n := range res.sent {
		total += n
	}
	fmt.Fprintf(stdout, "load: %d requests, %d failed (injected faults)\n", total, res.failed)

	// Let the payment consumer drain the topic, then stop every service so
	// each flushes its spans.
	time.Sleep(300 * time.Millisecond)
	stopAll(started, stderr)
	started = nil

	if rcv == nil {
		fmt.Fprintf(stdout, "spans were exported to %s: look them up there (for Jaeger, http://localhost:16686)\n", endpoint)
		return res, nil
	}
	if err := writeSpans(opts.out, rcv.Batches()); err != nil {
		return res, err
	}
	spans := rcv.Spans()
	fmt.Fprintf(stdout, "collected %d spans from 5 services; written to %s\n\n", len(spans), opts.out)
	return res, report(stdout, spans, rcv.Batches(), opts)
}

func start(ctx context.Context, self string, s *service, endpoint string, env map[string]string, stderr io.Writer) error {
	s.cmd = exec.CommandContext(ctx, self)
	s.cmd.Env = append(os.Environ(),
		envRole+"="+s.role,
		"OTEL_SERVICE_NAME="+s.name,
		"OTEL_RESOURCE_ATTRIBUTES=team="+s.team+",deployment.environment=demo",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_BSP_SCHEDULE_DELAY=200",
	)
	for k, v := range env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	s.cmd.Stderr = &prefixed{mu: &stderrMu, w: stderr, prefix: "[" + s.name + "] "}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.name, err)
	}
	s.done = make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				ready <- addr
			}
		}
		s.done <- s.cmd.Wait()
	}()
	select {
	case s.addr = <-ready:
		return nil
	case err := <-s.done:
		return fmt.Errorf("%s exited before it was ready: %v", s.name, err)
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("%s did not start within 20s", s.name)
	}
}

// stopAll stops callers first, so no request is cut off mid-way, and waits
// for each process to flush its spans and exit.
func stopAll(services []*service, stderr io.Writer) {
	for i := len(services) - 1; i >= 0; i-- {
		s := services[i]
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.done:
			if err != nil {
				fmt.Fprintf(stderr, "%s exited: %v\n", s.name, err)
			}
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			fmt.Fprintf(stderr, "%s did not stop within 10s; killed\n", s.name)
		}
	}
}

// prefixed writes a child's stderr line by line under a name; all children
// share one lock since they share the writer.
type prefixed struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
}

var stderrMu sync.Mutex

func (p *prefixed) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			fmt.Fprint(p.w, p.prefix+line)
		}
	}
	return len(b), nil
}

// generateLoad sends a mix of user operations at opts.rate for
// opts.duration, drawing a progress bar on stderr.
func generateLoad(ctx context.Context, edge string, opts options, stderr io.Writer) (sent map[string]int64, failed int64) {
	client := &http.Client{Timeout: 5 * time.Second}
	total := int64(opts.rate) * int64(opts.duration/time.Second)
	if total < 1 {
		total = 1
	}
	mix := opts.mix
	if len(mix) == 0 {
		mix = defaultMix
	}
	sent = map[string]int64{}
	var done, errs atomic.Int64
	tick := time.NewTicker(time.Second / time.Duration(max(opts.rate, 1)))
	defer tick.Stop()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	stopBar := make(chan struct{})
	barDone := make(chan struct{})
	tty := isTerminal(stderr)
	go func() {
		defer close(barDone)
		if !tty {
			<-stopBar
			fmt.Fprintf(stderr, "load: %d/%d requests sent\n", done.Load(), total)
			return
		}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			drawBar(stderr, done.Load(), total)
			select {
			case <-stopBar:
				drawBar(stderr, done.Load(), total)
				fmt.Fprintln(stderr)
				return
			case <-t.C:
			}
		}
	}()
	for i := int64(0); i < total; i++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		r := pick(mix, i)
		sent[r.name()]++
		sem <- struct{}{}
		wg.Add(1)
		go func(i int64) {
			defer func() { <-sem; wg.Done(); done.Add(1) }()
			if err := userRequest(ctx, client, edge, r, i); err != nil {
				errs.Add(1)
			}
		}(i)
	}
	wg.Wait()
	close(stopBar)
	<-barDone
	return sent, errs.Load()
}

// pick returns the route of request i: the mix's shares, interleaved, so
// that every stretch of the load has the same mix.
func pick(mix []route, i int64) route {
	sum := 0
	for _, r := range mix {
		sum += r.share
	}
	k := int((i * 7919) % int64(max(sum, 1)))
	for _, r := range mix {
		if k < r.share {
			return r
		}
		k -= r.share
	}
	return mix[len(mix)-1]
}

func drawBar(w io.Writer, done, total int64) {
	const width = 40
	n := int(done * width / total)
	fmt.Fprintf(w, "\rload [%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
}

// isTerminal reports whether w is a character device, where a redrawn
// progress bar makes sense; logs get one line at the end instead.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// userRequest is one user operation, from the web or the app.
func userRequest(ctx context.Context, client *http.Client, edge string, r route, i int64) error {
	req, err := http.NewRequestWithContext(ctx, r.method, fmt.Sprintf("%s%s?user=u%d", edge, r.path, i%50), nil)
	if err != nil {
		return err
	}
	source := "web"
	if i%3 == 0 {
		source = "app"
	}
	req.Header.Set("X-Traffic-Source", source)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 {
		return errors.New(resp.Status)
	}
	return nil
}

// writeSpans writes the collected batches as OTLP JSON lines, the format of
// flowtrace's console exporter, which the flowtrace CLI reads.
func writeSpans(path string, batches []ptrace.Traces) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var m ptrace.JSONMarshaler
	w := bufio.NewWriter(f)
	for _, b := range batches {
		line, err := m.MarshalTraces(b)
		if err != nil {
			f.Close()
			return err
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// report prints one checkout trace as a waterfall, then what the analysis
// tools (the same code as `flowtrace deps|red|estimate`) make of the run.
func report(w io.Writer, spans []tracetest.Span, batches []ptrace.Traces, opts options) error {
	byTrace := map[string][]tracetest.Span{}
	for _, s := range spans {
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	var best []tracetest.Span
	for _, t := range byTrace {
		for _, s := range t {
			if s.Attributes["critical_operation"] == "checkout" && len(t) > len(best) {
				best = t
			}
		}
	}
	if best != nil {
		fmt.Fprintln(w, "One checkout, end to end (edge → cart → order → Kafka → payment):")
		if err := waterfall.Write(w, best, waterfall.Options{Tags: []string{"critical_operation", "http.status_code", "rpc.grpc.status_code", "messaging.destination.name", "flow_id"}}); err != nil {
			return err
		}
	}

	var all []*trace.Span
	for _, b := range batches {
		s, err := source.FromPtrace(b)
		if err != nil {
			return err
		}
		all = append(all, s...)
	}
	traces := trace.Assemble(all)

	fmt.Fprintln(w, "Service dependencies (flowtrace deps):")
	g := deps.Build(traces)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  from\tto\ttype\tcalls\terrors\tp50\tp99")
	for _, e := range g.Edges {
		to := e.To.Name
		if e.To.Kind == deps.Topic {
			to = "topic " + to
		}
		from := e.From.Name
		if e.From.Kind == deps.Topic {
			from = "topic " + from
		}
		// Weighted like every flowtrace tool: under a ratio sampler a
		// sampled call stands for 1/p calls (the Mermaid below agrees).
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.1f%%\t%s\t%s\n", from, to, e.Type, strconv.FormatFloat(math.Round(e.Weighted*10)/10, 'f', -1, 64), 100*e.ErrorRatio,
			e.P50.Round(10*time.Microsecond), e.P99.Round(10*time.Microsecond))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n  as Mermaid (paste into any Markdown viewer):")
	if err := g.Mermaid(&indented{w: w, prefix: "    "}); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nGolden signals per service and operation (flowtrace red):")
	if err := red.Compute(traces).WriteTable(&indented{w: w, prefix: "  "}); err != nil {
		return err
	}

	demand, err := estimate.ParseForecast(opts.forecast)
	if err != nil {
		return fmt.Errorf("--forecast: %w", err)
	}
	fmt.Fprintf(w, "\nTraffic estimate for the forecast %s (flowtrace estimate):\n", opts.forecast)
	if err := estimate.Compute(traces, demand).WriteText(&indented{w: w, prefix: "  "}); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCoverage of the critical user operations (flowtrace coverage):")
	own, err := shopOwners()
	if err != nil {
		return err
	}
	cov := coverage.New(own, nil, nil)
	for _, t := range traces {
		cov.Add(t)
	}
	for _, op := range cov.Report().Operations {
		fmt.Fprintf(w, "  %s\n", op.Summary)
	}
	fmt.Fprintf(w, "\nThe spans are in %s; try:\n  go run ./cmd/flowtrace deps --format mermaid %s\n  go run ./cmd/flowtrace slo --slos analysis/testdata/slos.yaml %s\n  go run ./cmd/flowtrace coverage --owners examples/shop/owners.yaml %s\n", opts.out, opts.out, opts.out, opts.out)
	return nil
}

//go:embed owners.yaml
var ownersYAML []byte

// shopOwners is the shop's ownership file.
func shopOwners() (*owners.Map, error) { return owners.Parse(ownersYAML, "examples/shop/owners.yaml") }

// indented prefixes every line written through it.
type indented struct {
	w      io.Writer
	prefix string
	mid    bool
}

func (i *indented) Write(b []byte) (int, error) {
	for _, c := range b {
		if !i.mid {
			if _, err := io.WriteString(i.w, i.prefix); err != nil {
				return 0, err
			}
			i.mid = true
		}
		if _, err := i.w.Write([]byte{c}); err != nil {
			return 0, err
		}
		if c == '\n' {
			i.mid = false
		}
	}
	return len(b), nil
}
