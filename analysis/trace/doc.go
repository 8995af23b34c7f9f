// Package trace is the neutral, in-memory trace model every flowtrace
// analysis tool reads.
//
// Sources (package [github.com/flowtrace/flowtrace/analysis/source]) turn
// OTLP files and Jaeger query responses into [Span] values; [Assemble] groups
// them into [Trace] values with parent/child indexes. The model is small on
// purpose and does not depend on pdata or on flowtrace's tracer, so a new
// source only has to fill in a Span.
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
