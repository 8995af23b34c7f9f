package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/flowtrace/flowtrace/analysis/promtriage"
	"github.com/flowtrace/flowtrace/analysis/slo"
)

// promFlags are triage's Prometheus source.
type promFlags struct {
	url, from string
}

func (f *promFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "prometheus", "", "triage from the service-graph series of the Prometheus at `URL` instead of traces (--lookback, --end, --timeout and --max-bytes apply)")
	fs.StringVar(&f.from, "from", "", "with --prometheus: start from this `service` (default: --name's SLO owner with --slos, else every failing service the user calls)")
}

// runTriagePrometheus is `flowtrace triage --prometheus URL`.
func runTriagePrometheus(pf *promFlags, in *inputFlags, sf *sloFlags, of *ownersFlag, name, format string, files []string, stdout, stderr io.Writer) int {
	const cmd = "triage"
	if len(files) > 0 || in.jaeger != "" {
		return fail(stderr, cmd, fmt.Errorf("%w: --prometheus reads no traces: give it, or trace files / --jaeger, not both", errUsage))
	}
	if in.lookback < time.Second {
		return fail(stderr, cmd, fmt.Errorf("%w: --lookback %s: want at least 1s", errUsage, in.lookback))
	}
	var end time.Time
	if in.end != "" {
		var err error
		if end, err = time.Parse(time.RFC3339Nano, in.end); err != nil {
			return fail(stderr, cmd, fmt.Errorf("%w: --end: %v", errUsage, err))
		}
	}
	from := pf.from
	if from == "" && name != "" {
		if sf.file == "" {
			return fail(stderr, cmd, fmt.Errorf("%w: --name needs --slos with --prometheus (or give --from SERVICE)", errUsage))
		}
		cfg, err := slo.LoadFile(sf.file)
		if err != nil {
			return fail(stderr, cmd, err)
		}
		i := -1
		for j, s := range cfg.SLOs {
			if s.Name == name {
				i = j
			}
		}
		if i < 0 {
			return fail(stderr, cmd, fmt.Errorf("%w: no SLO named %q in %s", errUsage, name, sf.file))
		}
		if from = cfg.SLOs[i].OwnerService(); from == "" {
			return fail(stderr, cmd, fmt.Errorf("%w: SLO %s names no service or owner: give --from SERVICE", errUsage, name))
		}
	}
	own, err := of.load()
	if err != nil {
		return fail(stderr, cmd, err)
	}
	c, err := promtriage.NewClient(pf.url, in.timeout)
	if err != nil {
		return fail(stderr, cmd, fmt.Errorf("%w: %v", errUsage, err))
	}
	defer c.Close()
	if in.maxBytes > 0 {
		c.MaxBytes = in.maxBytes
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*in.timeout)
	defer cancel()
	g, err := promtriage.Fetch(ctx, c, end, in.lookback)
	if err != nil {
		return fail(stderr, cmd, err)
	}
	if len(g.Edges) == 0 {
		return fail(stderr, cmd, fmt.Errorf("prometheus %s has no traces_service_graph_request_total series over the last %s (is it scraping the flowtrace connector or flowtrace serve?)", c, in.lookback))
	}
	findings, err := promtriage.Blame(g, from, own)
	if err != nil {
		return fail(stderr, cmd, err)
	}
	rep := &promtriage.Report{Prometheus: c.String(), End: end, Window: in.lookback, Edges: len(g.Edges), Skipped: g.Skipped, Findings: findings}
	if format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fail(stderr, cmd, err)
	}
	return exitOK
}
