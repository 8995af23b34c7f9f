package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flowtrace/flowtrace/analysis/red"
)

func init() {
	register(command{name: "red", summary: "rate, errors and duration per service and operation", run: runRED})
}

// minRateWindow is the shortest window whose per-second rates red reports
// without a warning.
const minRateWindow = time.Minute

func runRED(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("red", "[flags] [files...]",
		"Prints the golden signals of every service operation (server and consumer spans):\n"+
			"rate over the observed time window, errors, and p50/p90/p99 duration, all\n"+
			"weighted by 1/sampling.probability. A window shorter than 1m gets a warning:\n"+
			"its per-second rates extrapolate a short sample.\n"+policyHelp, stderr)
	var in inputFlags
	in.add(fs)
	format := fs.String("format", "table", "output `format`: table, csv or json")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	write := map[string]func(*red.Report, io.Writer) error{
		"table": (*red.Report).WriteTable, "csv": (*red.Report).WriteCSV, "json": (*red.Report).WriteJSON,
	}[*format]
	if write == nil {
		return fail(stderr, "red", fmt.Errorf("%w: unknown --format %q (want table, csv or json)", errUsage, *format))
	}
	agg := red.NewAggregator()
	if err := in.each(context.Background(), files, stderr, nil, agg.Add); err != nil {
		return fail(stderr, "red", err)
	}
	rep := agg.Report()
	if rep.Window < minRateWindow {
		d := rep.Window.Round(time.Microsecond)
		if d >= time.Second {
			d = d.Round(time.Millisecond)
		}
		in.warn("rates are over a window of only %s, shorter than a minute: per-second figures extrapolate a short sample", d)
	}
	if *format == "json" {
		write = func(r *red.Report, w io.Writer) error { return in.writeJSON(w, r.WriteJSON) }
	}
	if err := write(rep, stdout); err != nil {
		return fail(stderr, "red", err)
	}
	return exitOK
}
