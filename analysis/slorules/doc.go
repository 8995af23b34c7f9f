// Package slorules writes Prometheus recording rules and multi-window,
// multi-burn-rate alerts for the SLOs of an SLO file (package
// [github.com/flowtrace/flowtrace/analysis/slo]), over the SLI counters the
// flowtrace collector connector and `flowtrace serve` export:
// flowtrace_slo_events_total and flowtrace_slo_good_events_total, label
// slo. It is what `flowtrace slo rules` prints.
//
// For each SLO it writes one rule group with
//
//   - a recording rule flowtrace_slo:error_ratio:rate<W> per window W that
//     an alert uses (5m, 30m, 1h, 6h and 3d for the default table): the
//     ratio of bad to all events over W, summed over every instance that
//     exports the counters;
//   - one alert per severity (FlowtraceSLOBurnPage, FlowtraceSLOBurnTicket)
//     that fires when, for any long/short window pair of that severity,
//     both ratios reach the threshold times the error budget (1 - target).
//
// The thresholds are [slo.AlertRule.Threshold] for the SLO's window, the
// numbers `flowtrace slo` evaluates on traces, so the rules and the CLI
// agree: 14.4× over 1h/5m and 6× over 6h/30m page, 1× over 3d/6h opens a
// ticket, for a 30-day window; 13.44×, 5.6× and 0.93× for 28 days. The
// short window makes an alert stop soon after the burn stops; the long one
// keeps a brief spike from paging alone.
//
// A good counter that does not exist yet (every event so far failed)
// counts as zero; with no events at all the ratio is NaN and nothing
// fires. Teams are not metric labels: the team and channel of the SLO's
// owning service ([slo.SLO.OwnerService]) come from the ownership file
// (package [github.com/flowtrace/flowtrace/analysis/owners]) and are
// written as static labels on the recording rules and alerts, for
// Alertmanager to route on. Each alert's triage annotation is the
// `flowtrace triage --prometheus` command that names the service and team
// nearest the cause.
//
// The package reads no environment variables.
package slorules
