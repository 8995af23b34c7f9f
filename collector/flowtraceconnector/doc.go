// Package flowtraceconnector is an OpenTelemetry Collector connector
// (traces → metrics) running flowtrace's analysis on a traces pipeline:
// the streaming core of github.com/flowtrace/flowtrace/analysis/live, the
// same one `flowtrace serve` runs, so the series are the same for the same
// spans (service graph and span metrics under the servicegraph and
// spanmetrics connectors' names, SLI counters per SLO of slos.yaml,
// fan-out per critical operation, unpaired and orphan counters).
//
// Configuration (type "flowtrace"):
//
//	connectors:
//	  flowtrace:
//	    slos: /etc/flowtrace/slos.yaml # optional: SLI counters, fan-out
//	    idle: 10s                      # a trace is complete after this long without a span
//	    max_held: 100000               # spans held while their traces assemble
//	    max_series: 2000               # series per metric family, then one overflow series
//	    flush_interval: 15s            # how often the metrics go down the metrics pipeline
//
// The connector must see every span of a trace: run it behind a
// load-balancing exporter that routes by trace id (docs/live.md in the
// flowtrace repository). Metrics are cumulative; each flush sends every
// series.
//
// The package reads no environment variables.
package flowtraceconnector
