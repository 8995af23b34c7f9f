// Package stream runs the analysis tools over trace files in bounded
// memory: spans are read chunk by chunk ([source.StreamFile]), indexed for
// links ([trace.SpanIndex], the latest [trace.DefaultIndexSpans]), grouped
// into traces with a bounded window ([trace.Assembler]), passed through
// per-trace steps ([trace.Step]: corrections, filters) and handed to the
// tools' incremental aggregators (deps.Builder, red.Aggregator,
// estimate.Accumulator) one trace at a time. Nothing holds the whole input.
//
// A trace whose spans lie further apart in the input than the window is
// analysed in pieces; [Summary.Split] counts them, and the tools then see
// unpaired calls and orphans where the pieces were cut. The in-memory
// entry points of the tools (deps.Build, red.Compute, estimate.Compute)
// give the same results as a stream whose window holds every trace whole.
//
// The package reads no environment variables.
package stream
