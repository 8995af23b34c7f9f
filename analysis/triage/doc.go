// Package triage finds where an SLO breach comes from, so the team closest
// to the cause is paged rather than the edge team.
//
// For each bad event of an SLO (see package
// [github.com/flowtrace/flowtrace/analysis/slo]) it walks the event span's
// subtree, ignoring spans that start after the event ended (asynchronous
// work cannot explain it):
//
//   - a failed event is blamed on the deepest failed span with no failed
//     child: the error is its own, not propagated from below;
//   - a slow event is blamed on the span with the most self-time (time not
//     covered by its children) within the event's interval, the deeper one
//     on a tie.
//
// Causes are aggregated by service, operation and kind over all bad
// events, weighted by 1/sampling.probability; the top cause names the
// service and its owning team (the team attribute of the span or its
// resource).
//
// The package reads no environment variables.
package triage
