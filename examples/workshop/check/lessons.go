package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/analysis/coverage"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/tracer"
)

// Step 1: every service starts the tracer and flushes it on SIGTERM; the
// edge records one span by hand.
func checkStart(c *checkRun) error {
	var missing []string
	for i := len(roles) - 1; i >= 0; i-- {
		if !strings.Contains(c.procs[roles[i].name].log(), "flowtrace: service="+roles[i].name) {
			missing = append(missing, roles[i].name)
		}
	}
	if len(missing) > 0 {
		return failf("%s never started the tracer (flowtrace prints its configuration on stderr when it starts).\n"+
			"Call tracing := flowtrace.Start(ctx) at the top of main, in main.go: every service runs that main.",
			strings.Join(missing, ", "))
	}
	for _, r := range roles {
		p := c.procs[r.name]
		if p.waitErr != nil {
			return failf("the %s did not exit cleanly after SIGTERM (%v): main must return normally, after tracing.Shutdown,\n"+
				"not die from the signal or call os.Exit before the spans are flushed.\n%s", r.name, p.waitErr, p.tail(5))
		}
	}
	total := c.find("edge", -1, "compute-total")
	if len(total) == 0 {
		if len(c.spans) == 0 {
			return failf("the receiver got no span at all. Two things are needed:\n" +
				"  1. a span: in edge.go, around computeTotal, start one by hand:\n" +
				"       span, _ := opentracing.StartSpanFromContext(r.Context(), \"compute-total\")\n" +
				"       total := computeTotal(price.Cents, 2)\n" +
				"       span.Finish()\n" +
				"  2. a flush: spans wait in a queue and are sent in batches; the checker stops every service with\n" +
				"     SIGTERM right after its requests, so main must call tracing.Shutdown(ctx) before it returns,\n" +
				"     with a fresh context that has a timeout (the signal has already cancelled the first one).")
		}
		return failf("the edge sent %s but none named \"compute-total\": start it around computeTotal in edge.go:\n"+
			"  span, _ := opentracing.StartSpanFromContext(r.Context(), \"compute-total\")", describe(c.spans))
	}
	return nil
}

// Step 2: the edge's handler and its HTTP client, and the catalog's
// handler, in one trace.
func checkHTTP(c *checkRun) error {
	edge, spans, err := c.checkoutTrace()
	if err != nil {
		return err
	}
	if _, ok := inTrace(c.find("edge", -1, "compute-total"), edge.TraceID); !ok {
		return failf("\"compute-total\" is not in the checkout's trace: start it from the request's context,\n" +
			"opentracing.StartSpanFromContext(r.Context(), ...), which now holds the server span.")
	}
	clients := c.find("edge", tracer.KindClient, "")
	var httpClient bool
	for _, s := range clients {
		if s.TraceID == edge.TraceID && !strings.Contains(s.Name, "Cart") {
			httpClient = true
		}
	}
	if !httpClient {
		if len(c.find("edge", tracer.KindClient, "GET")) > 0 {
			return failf("the edge's call to the catalog has a client span, but in a trace of its own: the request does\n" +
				"not carry the handler's context. Build it with http.NewRequestWithContext(r.Context(), \"GET\", url, nil)\n" +
				"and send it with client.Do(req); client.Get(url) uses context.Background().")
		}
		return failf("the checkout trace has %s; the edge's call to the catalog is missing.\n"+
			"Give the edge's http.Client a tracing transport: &http.Client{Transport: tracehttp.NewTransport(nil), ...}", describe(spans))
	}
	if _, ok := inTrace(c.find("catalog", tracer.KindServer, ""), edge.TraceID); !ok {
		if len(c.find("catalog", tracer.KindServer, "")) > 0 {
			return failf("the catalog's server span starts a trace of its own: the edge's request does not carry the\n" +
				"handler's context. Build it with http.NewRequestWithContext(r.Context(), \"GET\", url, nil).")
		}
		return failf("the checkout trace has %s; the catalog service is missing: is its mux wrapped with\n"+
			"tracehttp.NewHandler in catalog.go?", describe(spans))
	}
	return nil
}

// Step 3: the cart's gRPC server joins the trace.
func checkGRPC(c *checkRun) error {
	edge, spans, err := c.checkoutTrace()
	if err != nil {
		return err
	}
	if _, ok := inTrace(c.find("edge", tracer.KindClient, "Cart/Checkout"), edge.TraceID); !ok {
		return failf("the checkout trace has %s; the edge's gRPC call to the cart has no client span.\n"+
			"Dial the cart with the tracing interceptors in edge.go:\n"+
			"  grpc.NewClient(addr, append(tracegrpc.DialOptions(), grpc.WithTransportCredentials(...), shopkit.JSON)...)", describe(spans))
	}
	if _, ok := inTrace(c.find("cart", tracer.KindServer, "Checkout"), edge.TraceID); !ok {
		return failf("the checkout trace has %s; the cart service is missing: is its gRPC server wrapped with\n"+
			"grpc.NewServer(tracegrpc.ServerOptions()...) in cart.go?", describe(spans))
	}
	return nil
}

// Step 4: the cart's producer and the payment consumer join the trace.
func checkKafka(c *checkRun) error {
	edge, spans, err := c.checkoutTrace()
	if err != nil {
		return err
	}
	if _, ok := inTrace(c.find("cart", tracer.KindProducer, ""), edge.TraceID); !ok {
		return failf("the checkout trace has %s; the cart publishes the order without a producer span.\n"+
			"Wrap its writer in cart.go: orders := tracekafka.NewWriter(&kafka.Writer{...}); WriteMessages(ctx, ...)\n"+
			"then injects the trace context into the message headers.", describe(spans))
	}
	consumers := c.find("payment", tracer.KindConsumer, "")
	if _, ok := inTrace(consumers, edge.TraceID); !ok {
		if len(consumers) > 0 {
			return failf("the payment service's consumer spans are not in the checkout's trace: pass the handler's ctx on\n" +
				"(charge(ctx, ...)), the one kafkaconsume gives it.")
		}
		return failf("the checkout trace has %s; the payment consumer is missing: it reads messages without a span.\n"+
			"In payment.go, replace the FetchMessage/CommitMessages loop with\n"+
			"  kafkaconsume.New(r).Consume(ctx, func(ctx context.Context, m kafka.Message) error { return charge(ctx, logger, m) })\n"+
			"which starts a consumer span per message from its headers and commits after the handler.", describe(spans))
	}
	return nil
}

// Step 5: the declined payment is tagged with registry keys, and the
// analyzer finds nothing.
func checkTags(c *checkRun) error {
	report, err := c.semconvcheck()
	if err != nil {
		return err
	}
	if report != "" {
		return failf("semconvcheck, the tag analyzer, reports:\n  %s\n"+
			"Tag keys come from the registry (semconv/registry.yaml): use its typed helpers instead of\n"+
			"string literals, so a typo cannot compile: semconv.Error.Set(span, true),\n"+
			"semconv.ErrorKind.Set(span, \"card_declined\").", strings.ReplaceAll(report, "\n", "\n  "))
	}
	var declined bool
	for _, s := range c.find("payment", tracer.KindConsumer, "") {
		if v, _ := s.Attr("error.kind"); v == "card_declined" {
			declined = true
		}
	}
	if !declined {
		return failf("no payment span carries error.kind=card_declined: tag the declined payment's span in charge\n" +
			"(payment.go) with semconv.ErrorKind.Set(span, \"card_declined\").")
	}
	return nil
}

// Step 6: the payment's log line carries the trace id and flow id of the
// checkout, and the tier the edge put in baggage.
func checkLogs(c *checkRun) error {
	edge, _, err := c.checkoutTrace()
	if err != nil {
		return err
	}
	flowID, _ := edge.Attr("flow_id")
	var accepted map[string]any
	for _, rec := range c.procs["payment"].logRecords() {
		if rec["msg"] == "payment accepted" {
			accepted = rec
		}
	}
	if accepted == nil {
		return failf("the payment service logged no \"payment accepted\" line:\n%s", c.procs["payment"].tail(5))
	}
	if accepted["trace_id"] != edge.TraceID || accepted["flow_id"] != flowID {
		return failf("the payment's log line does not name its trace and flow: it has trace_id=%v flow_id=%v,\n"+
			"the checkout's trace is %s with flow id %v. Wrap the logger's handler in payment.go:\n"+
			"  slog.New(tracelog.NewHandler(slog.NewJSONHandler(os.Stderr, nil)))\n"+
			"and log with the message's context (logger.InfoContext(ctx, ...)).",
			accepted["trace_id"], accepted["flow_id"], edge.TraceID, flowID)
	}
	if accepted["tier"] != checkouts[0].tier {
		return failf("the payment's log line has tier=%v, the customer's tier is %q (the edge gets it as ?tier=).\n"+
			"No message carries it: put it in baggage at the edge, which travels with the trace context over\n"+
			"HTTP, gRPC and Kafka:\n"+
			"  opentracing.SpanFromContext(r.Context()).SetBaggageItem(\"tier\", r.URL.Query().Get(\"tier\"))\n"+
			"and log it in charge: \"tier\", opentracing.SpanFromContext(ctx).BaggageItem(\"tier\").",
			accepted["tier"], checkouts[0].tier)
	}
	return nil
}

// Step 7: under a sampler that keeps nothing, the checkout is still
// traced end to end because the edge marks it a critical operation.
func checkCritical(c *checkRun) error {
	edge := c.find("edge", tracer.KindServer, "/checkout")
	if len(edge) == 0 {
		return failf("no checkout trace arrived. This run's services sample nothing themselves\n" +
			"(OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0), as a busy production keeps\n" +
			"few traces; the org's critical user operations are always kept. Mark checkout at the edge, before\n" +
			"its span starts:\n" +
			"  tracehttp.NewHandler(mux, tracehttp.WithCriticalOperation(func(r *http.Request) string {\n" +
			"      if r.URL.Path == \"/checkout\" { return \"checkout\" }\n" +
			"      return \"\"\n" +
			"  }))")
	}
	for _, s := range c.trace(edge[0].TraceID) {
		if v, _ := s.Attr("critical_operation"); v != "checkout" {
			return failf("the %s's span %q carries critical_operation=%v, not checkout: name the operation \"checkout\"\n"+
				"(exactly) in WithCriticalOperation; it travels in baggage and is tagged on every span.", service(s), s.Name, v)
		}
	}
	return nil
}

// Step 8: the learner's SLO file evaluates on the run, and coverage finds
// every hop of checkout traced.
func checkRead(c *checkRun) error {
	if c.opts.out != "" {
		if err := writeSpans(c.opts.out, c.rcv.Batches()); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "spans written to %s\n", c.opts.out)
	}
	var all []*trace.Span
	for _, b := range c.rcv.Batches() {
		s, err := source.FromPtrace(b)
		if err != nil {
			return err
		}
		all = append(all, s...)
	}
	traces := trace.Assemble(all)

	path := filepath.Join(c.opts.dir, "slos.yaml")
	if !fileExists(path) {
		{
			return failf("there is no %s yet: write one with an availability SLO for the checkout operation, e.g.\n"+
				"  slos:\n"+
				"    - name: checkout-availability\n"+
				"      critical_operation: checkout\n"+
				"      target: 0.99\n"+
				"      window: 28d\n"+
				"then look at it with: go tool flowtrace slo --slos %s %s", path, path, c.opts.out)
		}
	}
	cfg, err := slo.LoadFile(path)
	if err != nil {
		return failf("%s does not parse: %v", path, err)
	}
	rep := slo.Evaluate(cfg, traces, slo.Latest(traces))
	var checkout bool
	for _, s := range cfg.SLOs {
		if s.CriticalOperation == "checkout" {
			checkout = true
		}
	}
	if !checkout {
		return failf("%s has no SLO for the checkout operation (critical_operation: checkout).", path)
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			return failf("the SLO %q of %s selects nothing in this run: %s", r.Name, path, r.Error)
		}
	}

	// The ownership file is optional: coverage names teams from it.
	var own *owners.Map
	if ownPath := filepath.Join(c.opts.dir, "owners.yaml"); fileExists(ownPath) {
		if own, err = owners.Load(ownPath); err != nil {
			return failf("%s: %v", ownPath, err)
		}
	}
	cov := coverage.New(own, nil, nil)
	for _, t := range traces {
		cov.Add(t)
	}
	for _, op := range cov.Report().Operations {
		if op.Name == "checkout" && op.TracedHops != op.TotalHops {
			return failf("flowtrace coverage says: %s", op.Summary)
		}
	}
	ownFlag := ""
	if own != nil {
		ownFlag = "--owners " + filepath.Join(c.opts.dir, "owners.yaml") + " "
	}
	fmt.Fprintf(c.out, "\nnow read the run with the flowtrace tools (README.md, step 8):\n"+
		"  go tool flowtrace deps %[1]s\n  go tool flowtrace red %[1]s\n  go tool flowtrace slo --slos %[2]s %[1]s\n  go tool flowtrace coverage %[3]s%[1]s\n",
		c.opts.out, path, ownFlag)
	return nil
}

// writeSpans writes the receiver's batches as OTLP JSON lines, which the
// flowtrace tools read.
func writeSpans(path string, batches []ptrace.Traces) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var m ptrace.JSONMarshaler
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

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
