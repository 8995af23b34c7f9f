package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/flowtrace/flowtrace/analysis/coverage"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func init() {
	register(command{name: "coverage", summary: "how far each critical user operation is traced, and where it goes dark", run: runCoverage})
}

func runCoverage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("coverage", "[flags] [files...]",
		"For each critical user operation in the data (and each one --expect lists),\n"+
			"the hops on its path and whether each is traced end to end: traced, terminal\n"+
			"(a database, cache or broker, which sends no spans by nature), or dark: an\n"+
			"uninstrumented service (named by its callers' peer.service or host name), a\n"+
			"server span missing on a service that is instrumented elsewhere, an unknown\n"+
			"peer address, a topic no consumer reads. Per service: spans that lost the\n"+
			"flow id or the critical-operation baggage, and spans with attribute keys the\n"+
			"tag registry does not define. Teams come from the ownership file (--owners,\n"+
			"$FLOWTRACE_OWNERS), the only source of a team for a service that sends no\n"+
			"spans. Counts are observed spans, not weighted: coverage is about which hops\n"+
			"exist. Load-test traffic is left out as in the other tools.\n", stderr)
	var in inputFlags
	in.add(fs)
	var of ownersFlag
	of.add(fs)
	expect := fs.String("expect", "", "comma-separated critical `operations` to report even when no trace of them is seen")
	format := fs.String("format", "text", "output `format`: text, json or mermaid (the diagram with dark hops marked)")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	switch *format {
	case "text", "json", "mermaid":
	default:
		return fail(stderr, "coverage", fmt.Errorf("%w: unknown --format %q (want text, json or mermaid)", errUsage, *format))
	}
	own, err := of.load()
	if err != nil {
		return fail(stderr, "coverage", err)
	}
	index := trace.NewSpanIndex(trace.DefaultIndexSpans)
	agg := coverage.New(own, nil, index)
	agg.Expect(strings.Split(*expect, ",")...)
	if err := in.each(context.Background(), files, stderr, index, agg.Add); err != nil {
		return fail(stderr, "coverage", err)
	}
	rep := agg.Report()
	switch *format {
	case "json":
		err = in.writeJSON(stdout, rep.WriteJSON)
	case "mermaid":
		err = rep.Mermaid(stdout)
	default:
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fail(stderr, "coverage", err)
	}
	return exitOK
}
