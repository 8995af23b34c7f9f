package main

import (
	"context"
	"fmt"
	"io"

	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func init() {
	register(command{name: "estimate", summary: "per-service load from an edge traffic forecast", run: runEstimate})
}

func runEstimate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("estimate", "--forecast 'checkout=1200/s,browse=30000/s' [flags] [files...]",
		"Turns a forecast per critical user operation (or root span name) into the\n"+
			"calls per second each service operation, and the messages per second each\n"+
			"Kafka topic, will receive, from the fan-out observed in the traces\n"+
			"(weighted by 1/sampling.probability). Load-test traffic is left out unless\n"+
			"--include-load-test.\n"+policyHelp, stderr)
	var in inputFlags
	in.add(fs)
	forecast := fs.String("forecast", "", "edge `forecast`: key=rate/s,... (units /s, /m, /h) (required)")
	format := fs.String("format", "text", "output `format`: text or json")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" {
		return fail(stderr, "estimate", fmt.Errorf("%w: unknown --format %q (want text or json)", errUsage, *format))
	}
	demand, err := estimate.ParseForecast(*forecast)
	if err != nil {
		return fail(stderr, "estimate", fmt.Errorf("%w: --forecast: %v", errUsage, err))
	}
	index := trace.NewSpanIndex(trace.DefaultIndexSpans)
	acc := estimate.NewAccumulator(demand, index)
	if err := in.each(context.Background(), files, stderr, index, acc.Add); err != nil {
		return fail(stderr, "estimate", err)
	}
	est := acc.Estimate()
	for _, w := range est.Warnings() {
		fmt.Fprintln(stderr, "flowtrace estimate: warning:", w)
	}
	if *format == "json" {
		err = in.writeJSON(stdout, est.WriteJSON)
	} else {
		err = est.WriteText(stdout)
	}
	if err != nil {
		return fail(stderr, "estimate", err)
	}
	return exitOK
}
