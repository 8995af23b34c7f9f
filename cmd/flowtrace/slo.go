package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/flowtrace/flowtrace/analysis/slo"
)

func init() {
	register(command{name: "slo", summary: "SLO compliance, error budget and burn-rate alerts; `slo rules`: Prometheus rules", run: runSLO})
}

// sloFlags are shared by slo and triage.
type sloFlags struct {
	file string
	now  string
}

func (f *sloFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "slos", "", "SLO definitions (YAML) `file` (required)")
	fs.StringVar(&f.now, "now", "", "evaluate at this RFC 3339 `time` (default: the latest span end in the data)")
}

// config loads the SLO file.
func (f *sloFlags) config() (*slo.Config, error) {
	if f.file == "" {
		return nil, fmt.Errorf("%w: --slos FILE is required", errUsage)
	}
	return slo.LoadFile(f.file)
}

// at returns the time to evaluate at: --now, else latest (the latest span
// end in the data).
func (f *sloFlags) at(latest time.Time) (time.Time, error) {
	if f.now == "" {
		return latest, nil
	}
	now, err := time.Parse(time.RFC3339Nano, f.now)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --now: %v", errUsage, err)
	}
	return now, nil
}

func runSLO(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "rules" { // a trace file named rules: ./rules
		return runSLORules(args[1:], stdout, stderr)
	}
	fs := newFlagSet("slo", "--slos FILE [flags] [files...]",
		"Evaluates SLOs (per operation or critical user operation) on the traces:\n"+
			"compliance, error budget left, and the SRE workbook's multi-window,\n"+
			"multi-burn-rate alerts, relative to the latest span in the data.\n"+
			"Load-test traffic is left out unless --include-load-test.\n"+
			"With --check the exit code is 3 when an alert fires. An SLO whose selector\n"+
			"matches no span of the data is an error (exit 1), not 100% compliance.\n"+
			"Events of an operation SLO are server and consumer spans unless it sets kind.\n"+
			"Each SLO says how much of its window the data covers, and the default alert\n"+
			"thresholds follow the SLO's window (14.4 for 2% of a 30-day budget in 1h,\n"+
			"13.44 for 28 days).\n"+
			"`flowtrace slo rules` writes the same alerts as Prometheus rules (see\n"+
			"`flowtrace slo rules -h`).\n"+policyHelp, stderr)
	var in inputFlags
	in.add(fs)
	var sf sloFlags
	sf.add(fs)
	format := fs.String("format", "text", "output `format`: text or json")
	check := fs.Bool("check", false, "exit with code 3 when any alert fires")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" {
		return fail(stderr, "slo", fmt.Errorf("%w: unknown --format %q (want text or json)", errUsage, *format))
	}
	if sf.file == "" {
		return fail(stderr, "slo", fmt.Errorf("%w: --slos FILE is required", errUsage))
	}
	cfg, err := sf.config()
	if err != nil {
		return fail(stderr, "slo", err)
	}
	if _, err := sf.at(time.Time{}); err != nil {
		return fail(stderr, "slo", err)
	}
	ev := slo.NewEvaluator(cfg)
	if err := in.each(context.Background(), files, stderr, nil, ev.Add); err != nil {
		return fail(stderr, "slo", err)
	}
	now, err := sf.at(ev.Latest())
	if err != nil {
		return fail(stderr, "slo", err)
	}
	rep := ev.Report(now)
	if *format == "json" {
		err = in.writeJSON(stdout, rep.WriteJSON)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fail(stderr, "slo", err)
	}
	if errs := rep.Errors(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(stderr, "flowtrace slo:", e)
		}
		return exitError
	}
	if *check && rep.Firing() {
		fmt.Fprintln(stderr, "flowtrace slo: alert firing")
		return exitAlerts
	}
	return exitOK
}
