package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// notYet is a step that is not done yet: msg says what is missing.
type notYet struct {
	step int // 0 until run fills in the step being checked
	msg  string
}

func (e *notYet) Error() string { return e.msg }

// step is one lesson's checker.
type step struct {
	title string
	// env is extra environment for every service during this step's run
	// (and the later steps' runs).
	env map[string]string
	// check returns a *notYet when the run shows the step is not done.
	check func(c *checkRun) error
}

// checkRun is what a step's check looks at.
type checkRun struct {
	*shopRun
	opts options
	out  io.Writer
}

// sampleNothing is what steps 7 and 8 run under: a sampler that keeps no
// trace it decides itself, as a busy production might keep very few.
var sampleNothing = map[string]string{
	"OTEL_TRACES_SAMPLER":     "parentbased_traceidratio",
	"OTEL_TRACES_SAMPLER_ARG": "0",
}

// steps are the workshop's lessons, in order; README.md describes each.
var steps = []step{
	{title: "start the tracer", check: checkStart},
	{title: "trace an HTTP handler and client", check: checkHTTP},
	{title: "propagate across gRPC", check: checkGRPC},
	{title: "a Kafka hop", check: checkKafka},
	{title: "tags from the registry", check: checkTags},
	{title: "baggage and the flow id in logs", check: checkLogs},
	{title: "mark a critical user operation", env: sampleNothing, check: checkCritical},
	{title: "read the result", env: sampleNothing, check: checkRead},
}

// run builds and runs the shop once, then checks step opts.step first
// (its message is the one the learner is working on) and then every
// earlier step, so that a regression is named too.
func run(ctx context.Context, opts options, out io.Writer) error {
	bin := opts.bin
	if bin == "" {
		tmp, err := os.MkdirTemp("", "workshop-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintf(out, "building ./%s ...\n", filepath.Clean(opts.dir))
		if bin, err = buildShop(ctx, opts.dir, tmp); err != nil {
			return withStep(err, opts.step)
		}
	}
	env := map[string]string{}
	for _, s := range steps[:opts.step] {
		for k, v := range s.env {
			env[k] = v
		}
	}
	fmt.Fprintln(out, "running the shop: edge, catalog, cart, payment; two checkouts; then SIGTERM ...")
	r, err := runShop(ctx, bin, env)
	if err != nil {
		return withStep(err, opts.step)
	}
	fmt.Fprintf(out, "the receiver got %d spans\n", len(r.spans))
	c := &checkRun{shopRun: r, opts: opts, out: out}
	order := []int{opts.step}
	for i := 1; i < opts.step; i++ {
		order = append(order, i)
	}
	for _, n := range order {
		if err := steps[n-1].check(c); err != nil {
			return withStep(err, n)
		}
	}
	return nil
}

// withStep attributes a *notYet without a step to step n.
func withStep(err error, n int) error {
	var ny *notYet
	if errors.As(err, &ny) && ny.step == 0 {
		ny.step = n
	}
	return err
}

// failf is a *notYet for the step being checked.
func failf(format string, args ...any) error {
	return &notYet{msg: fmt.Sprintf(format, args...)}
}

// service is the service that sent s.
func service(s tracetest.Span) string {
	name, _ := s.Resource["service.name"].(string)
	return name
}

// find returns the spans of svc of the given kind whose name contains name
// (any kind when kind is -1), earliest first.
func (c *checkRun) find(svc string, kind tracer.SpanKind, name string) []tracetest.Span {
	var out []tracetest.Span
	for _, s := range c.spans {
		if service(s) == svc && (kind < 0 || s.Kind == kind) && strings.Contains(s.Name, name) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// trace returns the spans of the trace id.
func (c *checkRun) trace(id string) []tracetest.Span {
	var out []tracetest.Span
	for _, s := range c.spans {
		if s.TraceID == id {
			out = append(out, s)
		}
	}
	return out
}

// describe is "4 spans (edge: 2, catalog: 1, cart: 1)".
func describe(spans []tracetest.Span) string {
	count := map[string]int{}
	for _, s := range spans {
		count[service(s)]++
	}
	var parts []string
	for _, r := range roles {
		if n := count[r.name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", r.name, n))
		}
	}
	slices.Reverse(parts) // edge first
	return fmt.Sprintf("%d spans (%s)", len(spans), strings.Join(parts, ", "))
}

// checkoutTrace is the spans of the first checkout's trace, from the
// edge's server span, or nil with a message when there is none.
func (c *checkRun) checkoutTrace() (tracetest.Span, []tracetest.Span, error) {
	edge := c.find("edge", tracer.KindServer, "/checkout")
	if len(edge) == 0 {
		return tracetest.Span{}, nil, failf("the edge sent no server span for POST /checkout.\n" +
			"Wrap the edge's mux in edge.go: return tracehttp.NewHandler(mux), so that every request\n" +
			"gets a server span and its context carries it to the handler.")
	}
	return edge[0], c.trace(edge[0].TraceID), nil
}

// inTrace returns the first span of spans in trace id.
func inTrace(spans []tracetest.Span, id string) (tracetest.Span, bool) {
	for _, s := range spans {
		if s.TraceID == id {
			return s, true
		}
	}
	return tracetest.Span{}, false
}

// semconvcheck runs the tag analyzer over the shop and returns its report.
func (c *checkRun) semconvcheck() (string, error) {
	pattern := "./" + filepath.Clean(c.opts.dir) + "/..."
	var cmd *exec.Cmd
	if c.opts.semconvcheck != "" {
		cmd = exec.Command(c.opts.semconvcheck, pattern)
	} else {
		cmd = exec.Command("go", "tool", "semconvcheck", pattern)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return "", fmt.Errorf("running semconvcheck: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
