package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/slorules"
)

// runSLORules is `flowtrace slo rules`: Prometheus rules from the SLO file.
func runSLORules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("slo rules", "--slos FILE [--owners FILE] [--out FILE]",
		"Writes Prometheus recording rules and multi-window, multi-burn-rate alerts\n"+
			"for each SLO of the file, over the SLI counters the flowtrace connector and\n"+
			"`flowtrace serve` export ("+slorules.MetricEvents+" and\n"+
			slorules.MetricGoodEvents+", label slo). Alerts "+slorules.AlertName("page")+" and\n"+
			slorules.AlertName("ticket")+" fire as `flowtrace slo` does on traces: page at\n"+
			"1h/5m and 6h/30m, ticket at 3d/6h, thresholds following each SLO's window.\n"+
			"Team and channel labels come from the ownership file, for the SLO's owner\n"+
			"(or its service). Check the result with `promtool check rules FILE`.", stderr)
	var sf sloFlags
	sf.add(fs)
	var of ownersFlag
	of.add(fs)
	out := fs.String("out", "", "write the rules to this `file` instead of stdout")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return fail(stderr, "slo rules", fmt.Errorf("%w: unexpected arguments %q (slo rules reads no trace files)", errUsage, rest))
	}
	if sf.file == "" {
		return fail(stderr, "slo rules", fmt.Errorf("%w: --slos FILE is required", errUsage))
	}
	cfg, err := slo.LoadFile(sf.file)
	if err != nil {
		return fail(stderr, "slo rules", err)
	}
	own, err := of.load()
	if err != nil {
		return fail(stderr, "slo rules", err)
	}
	f, warnings, err := slorules.Generate(cfg, slorules.Options{Owners: own, OwnersFile: own.Name()})
	if err != nil {
		return fail(stderr, "slo rules", err)
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "flowtrace slo rules: warning:", w)
	}
	var b bytes.Buffer
	if err := f.WriteYAML(&b, sf.file); err != nil {
		return fail(stderr, "slo rules", err)
	}
	if *out == "" {
		_, err = stdout.Write(b.Bytes())
	} else {
		err = os.WriteFile(*out, b.Bytes(), 0o644)
	}
	if err != nil {
		return fail(stderr, "slo rules", err)
	}
	return exitOK
}
