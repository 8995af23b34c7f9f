// Command report turns the output of `go test -bench` (several -count runs)
// into docs/performance.md: medians per benchmark, the ratios of flowtrace
// to each anchor, and the targets of issue 11, each met or not.
//
//	go run ./cmd/report -in raw.txt -benchstat stat.txt -out ../docs/performance.md
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	in := flag.String("in", "", "go test -bench output")
	stat := flag.String("benchstat", "", "benchstat output to append (optional)")
	out := flag.String("out", "", "Markdown file to write (default stdout)")
	count := flag.String("count", "", "the -count used, for the header")
	rev := flag.String("rev", "", "the revision measured, for the header")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fatal(err)
	}
	res := parse(f)
	_ = f.Close()
	w := io.Writer(os.Stdout)
	if *out != "" {
		of, err := os.Create(*out)
		if err != nil {
			fatal(err)
		}
		defer of.Close()
		w = of
	}
	var statText string
	if *stat != "" {
		b, err := os.ReadFile(*stat)
		if err != nil {
			fatal(err)
		}
		statText = string(b)
	}
	write(w, res, *count, *rev, statText)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

// results maps "Benchmark/sub" (GOMAXPROCS suffix removed) to unit to the
// values of every run, in the order of the input.
type results struct {
	names []string
	units map[string][]string
	vals  map[string]map[string][]float64
	cpu   string
}

var procSuffix = regexp.MustCompile(`-\d+$`)

func parse(r io.Reader) *results {
	res := &results{units: map[string][]string{}, vals: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "cpu: "); ok {
			res.cpu = s
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(fields[0], "Benchmark"), "")
		if res.vals[name] == nil {
			res.names = append(res.names, name)
			res.vals[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			unit := fields[i+1]
			if res.vals[name][unit] == nil {
				res.units[name] = append(res.units[name], unit)
			}
			res.vals[name][unit] = append(res.vals[name][unit], v)
		}
	}
	return res
}

// med returns the median of name's unit, NaN when absent.
func (r *results) med(name, unit string) float64 {
	v := slices.Clone(r.vals[name][unit])
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// paired returns the median over rounds of f(round) for the rounds where
// every benchmark in names has a value of unit: ratios taken round by round
// cancel the load changes of a shared machine between rounds.
func (r *results) paired(names []string, unit string, f func(v []float64) float64) float64 {
	n := -1
	for _, name := range names {
		if k := len(r.vals[name][unit]); n < 0 || k < n {
			n = k
		}
	}
	var out []float64
	for i := 0; i < n; i++ {
		v := make([]float64, len(names))
		for j, name := range names {
			v[j] = r.vals[name][unit][i]
		}
		if x := f(v); !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return math.NaN()
	}
	slices.Sort(out)
	if len(out)%2 == 1 {
		return out[len(out)/2]
	}
	return (out[len(out)/2-1] + out[len(out)/2]) / 2
}

// pr is the paired ratio a ÷ b of unit.
func (r *results) pr(a, b, unit string) float64 {
	return r.paired([]string{a, b}, unit, func(v []float64) float64 { return v[0] / v[1] })
}

// po is the paired ratio of the overheads over base: (a-base) ÷ (b-base).
func (r *results) po(a, b, base, unit string) float64 {
	return r.paired([]string{a, b, base}, unit, func(v []float64) float64 { return (v[0] - v[2]) / (v[1] - v[2]) })
}

func (r *results) runs(name string) int { return len(r.vals[name]["ns/op"]) }

// num formats a value for a table: thousands separators, few decimals.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.Abs(v) >= 100:
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func x(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

func machine() (cpu string, n int) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return cpu, runtime.NumCPU()
}

func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

func write(w io.Writer, r *results, count, rev, statText string) {
	cpu, n := machine()
	if cpu == "" {
		cpu = r.cpu
	}
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# Performance\n\n")
	p("Generated by `bench/run.sh` (do not edit by hand): flowtrace and the tracers users would otherwise pick, on identical work, in one run of the `bench/` module. ")
	p("Values are medians of %s runs; absolute times depend on the machine and its load, so compare the **ratios**, which are taken within the run.\n\n", orDash(count))
	p("- Machine: %s, %d CPUs (%s/%s)\n- Go: %s\n- Date: %s\n- Revision: %s\n\n", cpu, n, runtime.GOOS, runtime.GOARCH, goVersion(), time.Now().UTC().Format("2006-01-02 15:04 UTC"), orDash(rev))

	p("## Targets (issue 11)\n\n")
	p("| Target | Measured | Met |\n|---|---|---|\n")
	for _, t := range targets(r) {
		mark := "**no**"
		if t.met {
			mark = "yes"
		}
		if t.unknown {
			mark = "not measured"
		}
		p("| %s | %s | %s |\n", t.goal, t.got, mark)
	}
	p("\n")

	p("## Ratios\n\n")
	writeRatios(w, r)

	p("%s", method)
	p("%s", limits)
	p("## Medians\n\nEvery benchmark; custom metrics after the standard ones. The workloads are described in the benchmarks' doc comments (`bench/*_test.go`).\n\n")
	var tops []string
	byTop := map[string][]string{}
	for _, name := range r.names {
		top, _, _ := strings.Cut(name, "/")
		if byTop[top] == nil {
			tops = append(tops, top)
		}
		byTop[top] = append(byTop[top], name)
	}
	order := []string{"Span", "InjectExtract", "HTTPServer", "HTTPLoopback", "GRPCUnary", "Kafka", "Export", "FinishBlackholed"}
	slices.SortStableFunc(tops, func(a, b string) int { return pos(order, a) - pos(order, b) })
	for _, top := range tops {
		names := byTop[top]
		var units []string
		for _, name := range names {
			for _, u := range r.units[name] {
				if !slices.Contains(units, u) {
					units = append(units, u)
				}
			}
		}
		slices.SortStableFunc(units, func(a, b string) int { return rank(a) - rank(b) })
		p("### %s\n\n| | %s | runs |\n|---|%s---|\n", top, strings.Join(units, " | "), strings.Repeat("---:|", len(units)))
		for _, name := range names {
			_, sub, _ := strings.Cut(name, "/")
			cells := make([]string, len(units))
			for i, u := range units {
				cells[i] = num(r.med(name, u))
			}
			p("| %s | %s | %d |\n", orDash(sub), strings.Join(cells, " | "), r.runs(name))
		}
		p("\n")
	}
	if statText != "" {
		p("## benchstat\n\n<details><summary>benchstat output (medians with 95%% confidence intervals)</summary>\n\n```\n%s```\n\n</details>\n", statText)
	}
}

func pos(list []string, s string) int {
	if i := slices.Index(list, s); i >= 0 {
		return i
	}
	return len(list)
}

func rank(u string) int {
	switch u {
	case "ns/op":
		return 0
	case "allocs/op":
		return 1
	case "B/op":
		return 2
	}
	return 3
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

type target struct {
	goal, got    string
	met, unknown bool
}

// targets evaluates issue 11's targets. Ratios are paired: taken round by
// round, then the median over the rounds.
func targets(r *results) []target {
	var ts []target
	add := func(goal string, ok bool, got string, inputs ...float64) {
		for _, v := range inputs {
			if math.IsNaN(v) {
				ts = append(ts, target{goal: goal, got: "–", unknown: true})
				return
			}
		}
		ts = append(ts, target{goal, got, ok, false})
	}
	ns := func(name string) float64 { return r.med(name, "ns/op") }
	al := func(name string) float64 { return r.med(name, "allocs/op") }

	for _, a := range []struct {
		anchor string
		div    float64
	}{{"jaeger-null", 3}, {"otel-sdk-otlp", 6}} {
		q := r.pr("Span/flowtrace-otlp", "Span/"+a.anchor, "ns/op")
		add(fmt.Sprintf("Span: flowtrace (OTLP conversion included) ≤ 1/%g of %s's time", a.div, a.anchor), q <= 1/a.div,
			fmt.Sprintf("%s (need ≤ %.2f×); medians %s vs %s ns", x(q), 1/a.div, num(ns("Span/flowtrace-otlp")), num(ns("Span/"+a.anchor))), q)
	}
	caller, withConv := al("Span/flowtrace-nullexport"), al("Span/flowtrace-otlp")
	add("Span: ≤ 8 allocations on the caller's path, conversion reported separately (per span, amortised)", caller <= 8,
		fmt.Sprintf("%s allocs/op on the caller's path (tracer + batcher enqueue, exporter discarding); OTLP conversion adds %s allocs per span", num(caller), num((withConv-caller)/2)), caller, withConv)
	q := r.pr("Span/flowtrace-unsampled", "Span/noop", "ns/op")
	add("Unsampled span workload ≤ 2.5× the no-op tracer's time", q <= 2.5,
		fmt.Sprintf("%s; medians %s vs %s ns", x(q), num(ns("Span/flowtrace-unsampled")), num(ns("Span/noop"))), q)
	qt, qa := r.pr("InjectExtract/flowtrace", "InjectExtract/jaeger", "ns/op"), r.pr("InjectExtract/flowtrace", "InjectExtract/jaeger", "allocs/op")
	add("Inject+Extract ≤ 1/2 of jaeger's time and allocations", qt <= 0.5 && qa <= 0.5,
		fmt.Sprintf("%s time, %s allocs; medians %s ns / %s allocs vs %s ns / %s allocs", x(qt), x(qa),
			num(ns("InjectExtract/flowtrace")), num(al("InjectExtract/flowtrace")), num(ns("InjectExtract/jaeger")), num(al("InjectExtract/jaeger"))), qt, qa)
	for _, a := range []struct {
		name string
		div  float64
	}{{"nethttp-jaeger", 2}, {"otelhttp-sdk", 6}} {
		qt := r.po("HTTPServer/flowtrace", "HTTPServer/"+a.name, "HTTPServer/bare", "ns/op")
		qa := r.po("HTTPServer/flowtrace", "HTTPServer/"+a.name, "HTTPServer/bare", "allocs/op")
		add(fmt.Sprintf("HTTP server overhead over bare ≤ 1/%g of %s's, in ns and allocs", a.div, a.name),
			qt <= 1/a.div && qa <= 1/a.div,
			fmt.Sprintf("%s time, %s allocs (need ≤ %.2f×); medians +%s ns / +%s allocs vs +%s ns / +%s allocs", x(qt), x(qa), 1/a.div,
				num(serverOverhead(r, "flowtrace", "ns/op")), num(serverOverhead(r, "flowtrace", "allocs/op")),
				num(serverOverhead(r, a.name, "ns/op")), num(serverOverhead(r, a.name, "allocs/op"))),
			qt, qa)
	}
	q = r.pr("HTTPLoopback/flowtrace", "HTTPLoopback/bare", "req/s")
	add("HTTP loopback req/s, client and server traced, ≥ 0.85 of untraced", q >= 0.85,
		fmt.Sprintf("%s; medians %s vs %s req/s", x(q), num(r.med("HTTPLoopback/flowtrace", "req/s")), num(r.med("HTTPLoopback/bare", "req/s"))), q)
	fp, jp := r.med("FinishBlackholed/flowtrace", "p99-ns"), r.med("FinishBlackholed/jaeger-http", "p99-ns")
	add("Blackholed collector: Finish p99 no worse than jaeger's", fp <= jp,
		fmt.Sprintf("%s ns vs %s ns (OTel SDK: %s ns)", num(fp), num(jp), num(r.med("FinishBlackholed/otel-sdk", "p99-ns"))), fp, jp)
	fm := r.med("FinishBlackholed/flowtrace", "max-ns")
	add("Blackholed collector: Finish max ≤ 1 ms (median over rounds of each round's max)", fm <= 1e6,
		fmt.Sprintf("%s ns (worst round %s ns)", num(fm), num(slices.Max(append([]float64{0}, r.vals["FinishBlackholed/flowtrace"]["max-ns"]...)))), fm)
	fs := r.med("FinishBlackholed/flowtrace", "shutdown-ms")
	add("Blackholed collector: Shutdown honours a 1 s deadline within 50 ms", fs <= 1050, fmt.Sprintf("%s ms", num(fs)), fs)
	for _, c := range []string{"none", "gzip"} {
		q := r.pr("Export/flowtrace/"+c, "Export/otel-sdk/"+c, "spans/cpu-s")
		add(fmt.Sprintf("Export over OTLP/gRPC (compression %s): ≥ 1.5× the OTel SDK's spans per CPU-second", c), q >= 1.5,
			fmt.Sprintf("%s; medians %s vs %s spans/cpu-s", x(q), num(r.med("Export/flowtrace/"+c, "spans/cpu-s")), num(r.med("Export/otel-sdk/"+c, "spans/cpu-s"))), q)
	}
	return ts
}

func serverOverhead(r *results, name, unit string) float64 {
	return r.med("HTTPServer/"+name, unit) - r.med("HTTPServer/bare", unit)
}

// writeRatios prints flowtrace ÷ each anchor per workload.
func writeRatios(w io.Writer, r *results) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("flowtrace ÷ anchor, below 1 meaning flowtrace is faster or allocates less. Every ratio here and in the targets is paired: computed within each round (all benchmarks run once per round, one after the other), then the median over the rounds, which cancels most of the load changes of a shared machine.\n\n")
	p("| Workload | flowtrace | anchor | time | allocs | metric |\n|---|---|---|---:|---:|---:|\n")
	row := func(work, ft, anchor, metric string, fv func(a, b, unit string) float64) {
		name := work + "/" + ft
		other := work + "/" + anchor
		if r.vals[name] == nil || r.vals[other] == nil {
			return
		}
		m := "–"
		if metric != "" {
			m = x(r.pr(name, other, metric)) + " " + metric
		}
		p("| %s | %s | %s | %s | %s | %s |\n", work, ft, anchor, x(fv(name, other, "ns/op")), x(fv(name, other, "allocs/op")), m)
	}
	for _, ft := range []string{"flowtrace-otlp", "flowtrace-unsampled"} {
		for _, a := range []string{"noop", "mocktracer", "jaeger-null", "jaeger-remote", "otel-sdk-discard", "otel-sdk-otlp", "otel-bridge-otlp"} {
			row("Span", ft, a, "", r.pr)
		}
	}
	for _, a := range []string{"jaeger", "otel-w3c"} {
		row("InjectExtract", "flowtrace", a, "", r.pr)
	}
	ov := func(a, b, unit string) float64 { return r.po(a, b, "HTTPServer/bare", unit) }
	for _, a := range []string{"nethttp-jaeger", "otelhttp-sdk"} {
		row("HTTPServer", "flowtrace", a, "", ov)
	}
	p("\nHTTPServer rows compare the overhead over the bare handler. Throughput over the untraced baseline (same workload, same round; Kafka time and allocations per message):\n\n")
	p("| Workload | instrumentation | throughput ÷ untraced | time ÷ untraced | allocs ÷ untraced |\n|---|---|---:|---:|---:|\n")
	for _, wk := range []struct{ work, metric string }{{"HTTPLoopback", "req/s"}, {"GRPCUnary", "calls/s"}, {"Kafka", "msgs/s"}} {
		for _, name := range r.names {
			work, sub, _ := strings.Cut(name, "/")
			if work != wk.work || sub == "bare" {
				continue
			}
			base := wk.work + "/bare"
			unitT, unitA := "ns/op", "allocs/op"
			if wk.work == "Kafka" {
				unitT, unitA = "ns/msg", "allocs/msg"
			}
			line := func(label, base string) {
				p("| %s | %s | %s | %s | %s |\n", wk.work, label, x(r.pr(name, base, wk.metric)), x(r.pr(name, base, unitT)), x(r.pr(name, base, unitA)))
			}
			line(sub, base)
			if wk.work == "Kafka" && sub == "flowtrace" && r.vals["Kafka/bare-headers"] != nil {
				line("flowtrace ÷ bare-headers", "Kafka/bare-headers")
			}
		}
	}
	p("\n")
}

const method = `## Method

- **Span**: a root span, 5 tags (string, int, bool, http.method, http.status_code), one log with 2 fields, a ChildOf child, both finished. ` + "`flowtrace-otlp`" + ` hands spans to the batcher and converts them to OTLP protobuf before discarding them (the fair comparison with ` + "`otel-sdk-otlp`" + `); ` + "`flowtrace-nullexport`" + ` discards them unconverted (the caller's path); their difference is the conversion, done on the batcher's goroutine, which a 2-core machine still pays for. Allocations are process-wide, so background work is counted.
- **InjectExtract**: a sampled context with one baggage item (plus the flow id for flowtrace) into and out of ` + "`http.Header`" + `.
- **HTTPServer**: in process, ` + "`httptest.NewRecorder`" + `, a ServeMux route whose handler writes 2 bytes, no incoming trace context. flowtrace: tracehttp; nethttp-jaeger: go-stdlib ` + "`nethttp.Middleware`" + ` with jaeger's NullReporter; otelhttp-sdk: otelhttp with the SDK's batch processor into a discarding exporter, W3C propagators. flowtrace records more per request than go-stdlib (route, scheme, host, user agent, peer address, response size, flow id and its response header).
- **HTTPLoopback**: ` + "`httptest.NewServer`" + `, sequential keep-alive GETs, client transport and server handler both traced. go-stdlib's client makes 2 spans per request (` + "`TraceRequest`" + ` root + round trip), the others 1: 3 spans against 2.
- **GRPCUnary**: grpc.health.v1 Check over loopback; flowtrace tracegrpc, otgrpc (opentracing-contrib/go-grpc) + jaeger NullReporter, otelgrpc stats handlers + SDK.
- **Kafka**: 5,000 messages through kfake (in process) per iteration, produced in writes of 100 and consumed one by one; flowtrace makes a producer and a consumer span per message. ` + "`bare-headers`" + ` sends the headers a traced message carries, untraced, to separate the cost of bigger messages from the tracer's.
- **Export**: the Span workload into a real OTLP/gRPC exporter, receiver (` + "`tracetest.NewReceiver`" + `) in a child process; batch 512, queue 2048, same compression for both; ForceFlush every 1,024 spans so nothing is dropped (checked against the receiver's count). CPU from ` + "`getrusage`" + ` of the exporting process (span creation included).
- **FinishBlackholed**: 100,000 spans finished one after the other with the exporter pointed at ` + "`tracetest.NewBlackhole`" + ` (accepts TCP, never answers), each library's default queue and batch settings; only Finish/End is timed. Then Shutdown with a 1 s deadline. jaeger's Close takes no deadline: it is cut at 3 s (the blackhole is closed), so 3,000 ms means "at least 3 s". The OTel exporter's own timeout is lowered to 250 ms so that its goroutines, which outlive Shutdown, end before the next benchmark. max-ns is the slowest single Finish of a round: on a shared machine it measures preemption as much as the tracer.

`

// limits explains, from profiles, what keeps the missed targets out of
// reach; update it when the code changes what a profile shows.
const limits = `## What limits the targets that are missed

From CPU and allocation profiles of the benchmarks above (` + "`go test -bench X -cpuprofile/-memprofile`" + ` in ` + "`bench/`" + `):

- **Span time (≤ 1/3 of jaeger-null, ≤ 1/6 of the OTel SDK with OTLP).** The caller's path is at the allocation target (8, conversion 0 per span with the reused ` + "`export.Converter`" + `), but about a quarter of the CPU is garbage collection: a sampled span is one ~900-byte object (eight inline tag slots, one inline event, its context), kept alive in the queue until it is converted. ` + "`time.Now`" + ` at start and end is ~13 %, a lock per SetTag (the OpenTracing API lets any goroutine call it) ~10 %, and OTLP conversion (~140 ns per span, on the batcher's goroutine) is paid on the same two cores. jaeger-null converts nothing. Reaching 1/3 of jaeger-null would mean about 300 ns per span conversion included; the OpenTracing API (tags as ` + "`interface{}`" + `, a lock per call) and converting to OTLP put the realistic floor near 0.6×.
- **Inject+Extract time (0.54× against ≤ 0.5×).** Allocations meet the target (9 against 22). flowtrace writes three headers (traceparent, baggage, X-Flow-ID) where jaeger writes two, and every ` + "`http.Header`" + ` write costs a map insert and a one-element slice.
- **HTTP server overhead.** flowtrace records about 14 tags per request (route, scheme, host, user agent, peer address and IP, request and response sizes, flow id, sampling probability) against go-stdlib's five; every string tag is boxed into ` + "`interface{}`" + ` by the OpenTracing API (7 of the 18 extra allocations). It also resolves the route before the span starts (so per-operation sampling sees it: a second ServeMux lookup, ~5 %), writes the X-Flow-ID response header and puts the span in the request context. The writer wrapper is one allocation for net/http's own writers.
- **HTTP loopback (0.75× against ≥ 0.85×).** Two spans per request (client and server), each side injecting or extracting three headers; the server-side cost above dominates.
- **Export with gzip (1.28× against ≥ 1.5×).** grpc's gzip compressor is about 40 % of the CPU of both exporters and is the same code for both, which pulls the ratio towards 1; without compression flowtrace delivers 1.67× the OTel SDK's spans per CPU-second.
`
