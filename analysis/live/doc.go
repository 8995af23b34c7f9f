// Package live is flowtrace's streaming analysis core: the tools of
// package analysis run continuously over spans as they arrive, and their
// results are series for Prometheus. `flowtrace serve` and the
// OpenTelemetry Collector connector (module
// github.com/flowtrace/flowtrace/collector) both feed one [Core], so the
// two give the same series for the same input.
//
// Spans are grouped into traces in bounded memory ([trace.Assembler]: a
// trace is complete when it has received no span for the idle time, or
// when the held-span bound forces the oldest out), and each complete
// trace is analysed by the tools' own rules, not a copy of them:
//
//   - the service graph by [deps.Builder] ([deps.Builder.Observe]): one
//     series per edge of calls, failed calls, and callee- and caller-side
//     duration histograms, under the names and labels of the collector's
//     servicegraph connector (client, server, connection_type, with
//     virtual nodes for peers and databases and the "user" node for the
//     callers of root spans); unpaired client spans are counted apart;
//   - span metrics under the spanmetrics connector's names (service_name,
//     span_name, span_kind, status_code);
//   - per SLO of slos.yaml, events and good events by the selectors of
//     package slo ([slo.Events]): flowtrace_slo_events_total and
//     flowtrace_slo_good_events_total, which `flowtrace slo rules` reads;
//   - per critical operation of slos.yaml, the fan-out `flowtrace
//     estimate` multiplies a forecast by ([estimate.Accumulator]).
//
// Every count is weighted by 1/sampling.probability, so counters are
// fractional. Memory does not grow with the input: each metric family
// holds at most MaxSeries series and counts the rest in an overflow series
// (label otel_metric_overflow="true") and in flowtrace_series_overflow_total;
// label values are cut to 256 bytes; the service-graph builder starts
// afresh past MaxGraphState entries. [Snapshot.WriteText] writes the
// Prometheus text exposition format.
//
// The package reads no environment variables.
package live
