// Package slo evaluates service level objectives on traces: compliance,
// error budget left, and multi-window, multi-burn-rate alerts as chapter 5
// ("Alerting on SLOs") of the Google SRE workbook describes them.
//
// An SLO file is YAML:
//
//	slos:
//	  - name: checkout-availability
//	    critical_operation: checkout   # root span of each checkout trace
//	    owner: edge                    # optional: whose team owns it (default: service)
//	    target: 0.999
//	    window: 28d
//	  - name: browse-latency
//	    service: edge                  # or: operation of a service
//	    operation: GET /products       # span name
//	    kind: server                   # optional; default server and consumer
//	    latency: 200ms                 # slower events are bad too
//	    target: 0.99
//	    window: 28d
//	alerts:                            # optional; replaces the default table
//	  - {severity: page, long: 1h, short: 5m, budget: 2%}   # or burn_rate: 14.4
//
// An event is the root span of a trace whose critical_operation matches, or
// a span of the named service and operation. Operation events are server
// and consumer spans unless kind names another span kind: a call's client
// and server spans often share a name, and counting both would count each
// request twice. An event is bad when the span has an error status or,
// with a latency threshold, lasts longer than it. Events are weighted by
// 1/sampling.probability.
//
// An SLO whose selector matches no span of the data gets [Result.Error]
// (and the CLI exits 1): "100% compliance" of nothing hides a typo or data
// from the wrong place. Each result also says how much of its window the
// data covers ([Result.Coverage]): four days of data scored against a
// 28-day window are only 14% of it.
//
// Burn rate over a window is the bad-event ratio in that window divided by
// the error budget (1 - target): 1 spends the budget exactly over the SLO
// window. An alert fires when both its long and its short window burn at
// least its threshold. The default table is the workbook's recommendation,
// kept as the share of the budget each alert stands for:
//
//	severity  long  short  budget spent  burn rate (30d)  (28d)
//	page      1h    5m     2%            14.4             13.44
//	page      6h    30m    5%            6                5.6
//	ticket    3d    6h     10%           1                0.933
//
// The threshold is budget × SLO window / long window, so it follows each
// SLO's window ([AlertRule.Threshold]); an alert given with burn_rate in
// the file keeps that rate for every window.
// Windows end at the evaluation time, which for recorded data is the latest
// span end, so a recorded file always gives the same report.
//
// [Evaluator] evaluates trace by trace, for streamed input: since the
// evaluation time is known only at the end, each SLO keeps its events by
// time, exactly (16 bytes each) up to 262,144 of them and in time buckets
// past that, whose width [Result.EdgeResolution] gives and to which each
// window's start is then resolved. [Evaluate] is a loop over it.
//
// owner names the service whose team (from the ownership file) answers for
// the SLO in the Prometheus rules of `flowtrace slo rules` (package
// analysis/slorules); it defaults to service and selects nothing.
//
// Durations accept Go syntax (300ms, 1h30m) plus days and weeks (28d, 4w).
// The package reads no environment variables.
package slo
