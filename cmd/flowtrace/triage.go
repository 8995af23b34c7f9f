package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/stream"
	"github.com/flowtrace/flowtrace/analysis/triage"
)

func init() {
	register(command{name: "triage", summary: "find the service and team closest to an SLO breach's cause", run: runTriage})
}

func runTriage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("triage", "--slos FILE [flags] [files...] | --prometheus URL [--from SERVICE] [flags]",
		"For each SLO that breaches its target or has a firing alert (or the one --name\n"+
			"selects), walks its failing and slow traces to the deepest span whose own\n"+
			"error or self-time explains the symptom, and names the service and owning\n"+
			"team most often at the cause. The team comes from the ownership file\n"+
			"(--owners, or $FLOWTRACE_OWNERS) for the services it lists, else from the\n"+
			"span's team attribute.\n\n"+
			"With --prometheus URL it reads no traces: it follows the failed requests of\n"+
			"the service graph in that Prometheus (traces_service_graph_request_total and\n"+
			"_failed_total per client/server edge, over --lookback ending at --end) from\n"+
			"--from SERVICE (or each service the user calls) to the service nearest the\n"+
			"cause, and names its team from the ownership file.\n"+policyHelp, stderr)
	var in inputFlags
	in.add(fs)
	var sf sloFlags
	sf.add(fs)
	var of ownersFlag
	of.add(fs)
	var pf promFlags
	pf.add(fs)
	name := fs.String("name", "", "triage this SLO even if it is not breaching")
	format := fs.String("format", "text", "output `format`: text or json")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" {
		return fail(stderr, "triage", fmt.Errorf("%w: unknown --format %q (want text or json)", errUsage, *format))
	}
	if pf.url != "" {
		return runTriagePrometheus(&pf, &in, &sf, &of, *name, *format, files, stdout, stderr)
	}
	if sf.file == "" {
		return fail(stderr, "triage", fmt.Errorf("%w: --slos FILE is required", errUsage))
	}
	own, err := of.load()
	if err != nil {
		return fail(stderr, "triage", err)
	}
	cfg, err := sf.config()
	if err != nil {
		return fail(stderr, "triage", err)
	}
	if _, err := sf.at(time.Time{}); err != nil {
		return fail(stderr, "triage", err)
	}
	// One pass: the SLOs are evaluated and every SLO's bad events triaged
	// as the traces stream by; the breaching ones are reported.
	ev := slo.NewEvaluator(cfg)
	tr := triage.NewTriager(cfg.SLOs)
	if err := in.each(context.Background(), files, stderr, nil, stream.Fanout(ev.Add, tr.Add)); err != nil {
		return fail(stderr, "triage", err)
	}
	now, err := sf.at(ev.Latest())
	if err != nil {
		return fail(stderr, "triage", err)
	}
	evaluated := ev.Report(now)
	for _, e := range evaluated.Errors() {
		in.warn("%s", e)
	}
	results := evaluated.Results
	var reps []*triage.Report
	for i, s := range cfg.SLOs {
		if (*name == "" && (results[i].Breaching || results[i].Firing())) || s.Name == *name {
			reps = append(reps, tr.Report(i, now))
		}
	}
	triage.AssignOwners(reps, own)
	if *name != "" && len(reps) == 0 {
		return fail(stderr, "triage", fmt.Errorf("%w: no SLO named %q in %s", errUsage, *name, sf.file))
	}
	if len(reps) == 0 && *format == "text" {
		fmt.Fprintln(stdout, "no SLO is breaching or alerting; nothing to triage (use --name to triage one anyway)")
		return exitOK
	}
	if *format == "json" {
		err = in.writeJSON(stdout, func(w io.Writer) error { return triage.WriteJSON(w, reps) })
	} else {
		err = triage.WriteText(stdout, reps)
	}
	if err != nil {
		return fail(stderr, "triage", err)
	}
	return exitOK
}
