// Package triage finds where an SLO breach comes from, so the team closest
// to the cause is paged rather than the edge team.
//
// Each trace's clock skew is corrected first (see package
// [github.com/flowtrace/flowtrace/analysis/trace]), so a callee whose
// clock runs ahead is not mistaken for work done after the response. For
// each bad event of an SLO (see package
// [github.com/flowtrace/flowtrace/analysis/slo]) it walks the event span's
// subtree, ignoring spans that start after the event ended (asynchronous
// work cannot explain it):
//
//   - a failed event is blamed by error propagation, not depth: from the
//     event span it follows the failed child whose error the parent
//     returned, down to a span whose error is its own. A failed child was
//     recovered from, and does not explain its parent, when a later sibling
//     of the same kind succeeded that is a retry (same name) or the first
//     thing tried after it (a fallback). Of several unrecovered failed
//     children the one that ended last is followed (the parent was waiting
//     for it);
//   - a slow event is blamed on the span with the most self-time (time not
//     covered by its children) within the event's interval, the deeper one
//     on a tie.
//
// Causes are aggregated by service, operation and kind over all bad
// events, weighted by 1/sampling.probability; the top cause names the
// service and its owning team: the team attribute of the span or its
// resource, or, with an ownership file ([AssignOwners], package
// [github.com/flowtrace/flowtrace/analysis/owners]), the file's team and
// on-call channel for the services it lists. [Triager] triages trace by
// trace for streamed input, finding each bad event's cause while its
// trace is at hand and keeping only the cause, time, weight and trace id
// (bounded as slo's [slo.Evaluator] bounds events); [Analyze] is a loop
// over it. Reports carry the data's integrity counts (orphans, unpaired
// spans, spans shifted for clock skew).
//
// The package reads no environment variables.
package triage
