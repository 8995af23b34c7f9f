package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func init() {
	register(command{name: "deps", summary: "service dependency diagram (Mermaid, DOT, SVG)", run: runDeps})
}

func runDeps(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("deps", "[flags] [files...]",
		"Draws the service dependency graph: caller -> callee edges with call counts,\n"+
			"error ratio and p50/p99 latency; HTTP, gRPC and Kafka (service -> topic -> service)\n"+
			"edges are drawn differently; call counts are the calls the sampled spans stand\n"+
			"for. SVG needs Graphviz's dot in PATH.\n"+policyHelp, stderr)
	var in inputFlags
	in.add(fs)
	format := fs.String("format", "mermaid", "output `format`: mermaid, dot, svg or json")
	dotTimeout := fs.Duration("dot-timeout", 30*time.Second, "with --format svg: how long dot may run")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	switch *format {
	case "mermaid", "dot", "svg", "json":
	default:
		return fail(stderr, "deps", fmt.Errorf("%w: unknown --format %q (want mermaid, dot, svg or json)", errUsage, *format))
	}
	index := trace.NewSpanIndex(trace.DefaultIndexSpans)
	b := deps.NewBuilder(index)
	if err := in.each(context.Background(), files, stderr, index, b.Add); err != nil {
		return fail(stderr, "deps", err)
	}
	g := b.Graph()
	var err error
	switch *format {
	case "dot":
		err = g.DOT(stdout)
	case "svg":
		err = g.SVG(context.Background(), stdout, *dotTimeout)
	case "json":
		err = in.writeJSON(stdout, g.WriteJSON)
	default:
		err = g.Mermaid(stdout)
	}
	if err != nil {
		return fail(stderr, "deps", err)
	}
	return exitOK
}
