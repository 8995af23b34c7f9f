// Package slo evaluates service level objectives on traces: compliance,
// error budget left, and multi-window, multi-burn-rate alerts as chapter 5
// ("Alerting on SLOs") of the Google SRE workbook describes them.
//
// An SLO file is YAML:
//
//	slos:
//	  - name: checkout-availability
//	    critical_operation: checkout   # root span of each checkout trace
//	    target: 0.999
//	    window: 28d
//	  - name: browse-latency
//	    service: edge                  # or: operation of a service
//	    operation: GET /products       # span name
//	    latency: 200ms                 # slower events are bad too
//	    target: 0.99
//	    window: 28d
//	alerts:                            # optional; replaces the default table
//	  - {severity: page, long: 1h, short: 5m, burn_rate: 14.4}
//
// An event is the root span of a trace whose critical_operation matches, or
// a span of the named service and operation. It is bad when the span has
// an error status or, with a latency threshold, lasts longer than it. Events
// are weighted by 1/sampling.probability.
//
// Burn rate over a window is the bad-event ratio in that window divided by
// the error budget (1 - target): 1 spends the budget exactly over the SLO
// window. An alert fires when both its long and its short window burn at
// least its rate. The default table is the workbook's recommendation:
//
//	severity  long  short  burn rate  budget spent when it fires
//	page      1h    5m     14.4       2% (of a 30-day budget)
//	page      6h    30m    6          5%
//	ticket    3d    6h     1          10%
//
// The workbook derives those rates for a 30-day SLO window; they are used
// as-is for other windows (override them in the file when that matters).
// Windows end at the evaluation time, which for recorded data is the latest
// span end, so a recorded file always gives the same report.
//
// Durations accept Go syntax (300ms, 1h30m) plus days and weeks (28d, 4w).
// The package reads no environment variables.
package slo
