// Package trace is the neutral, in-memory trace model every flowtrace
// analysis tool reads.
//
// Sources (package [github.com/flowtrace/flowtrace/analysis/source]) turn
// OTLP files and Jaeger query responses into [Span] values; [Assemble] groups
// them into [Trace] values with parent/child indexes. For inputs too large
// to hold, an [Assembler] groups a stream of spans with a bounded window,
// as a collector's tail-sampling processor does: a trace is complete when
// [DefaultWindow] spans of other traces (or [WithWindow]) have passed
// without one of it, when it has been idle for [WithIdle]'s time (live
// sources), or at the end of the input. A trace whose spans are further
// apart is emitted in pieces, each analysed as a trace of its own and
// counted ([AssemblyStats.Split]); a hard bound on the spans held
// ([WithMaxHeld]) keeps memory bounded whatever the input. [Step]s run on
// each assembled trace (corrections, filters) before the tools see it. The model is small on
// purpose and does not depend on pdata or on flowtrace's tracer, so a new
// source only has to fill in a Span.
//
// A trace's root is chosen by structure ([Trace.Root]): a span without a
// parent id, a server or consumer span first; an orphan (a span whose
// parent is missing from the data) never is, so a fragment is not taken
// for the request.
//
// Before computing anything the tools pass each trace through [Correct]
// (or [CorrectAll]): it corrects clock skew across process boundaries
// ([CorrectSkew], bounded by [DefaultMaxSkew]) and counts what is broken
// ([Integrity]: traces without a root, orphans, client spans without a
// server side, server spans without their client span, spans shifted). It
// takes one assembled trace and returns the corrected one with its
// counts, so it composes with a reader that assembles traces one at a
// time ([Corrector] is the [Step] form); only the set of services in the
// data ([Known]) is shared, to tell an uninstrumented system from an
// unpaired call ([PeerOf], [IsUnpairedClient]).
//
// Attribute conventions the tools rely on (all optional):
//
//   - sampling.probability: the chance the trace was sampled; a span stands
//     for 1/p spans ([Span.Weight]); absent or invalid means 1.
//   - critical_operation: the critical user operation a trace serves.
//   - traffic_source: web, app, load-test, ...
//   - team: the owning team, on the span or on its resource.
//
// The package reads no environment variables.
package trace
