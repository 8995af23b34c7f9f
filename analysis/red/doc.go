// Package red computes the implicit golden signals of each service and
// operation: rate, errors and duration (RED).
//
// Only spans where a service receives work count: server and consumer
// spans, grouped by service and span name (instrumentation names server
// spans by route template, so names stay bounded). Every span is weighted by
// 1/sampling.probability, so a span sampled at 0.5 counts twice; Count is
// the observed number of spans. Rate is the weighted count divided by the
// observed time window of all the data (earliest span start to latest span
// end), so a recorded file always gives the same rates. The window is one
// for all services, taken after each trace's clock skew was corrected
// (see package [github.com/flowtrace/flowtrace/analysis/trace]): a service
// whose clock runs ahead would otherwise stretch it and deflate every rate,
// and per-service windows would inflate the rates of sparse services. The
// report counts the spans shifted and the broken traces ([Report.Integrity];
// a "data:" line in the table). Duration
// percentiles (p50, p90, p99) are weighted nearest-rank percentiles, exact
// up to 1,024 spans per row and within 1% relative error beyond (a
// mergeable DDSketch). [Aggregator] computes the report trace by trace in
// bounded memory; [Compute] is it over traces in memory.
//
// The package reads no environment variables.
package red
