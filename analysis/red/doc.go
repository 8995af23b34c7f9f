// Package red computes the implicit golden signals of each service and
// operation: rate, errors and duration (RED).
//
// Only spans where a service receives work count: server and consumer
// spans, grouped by service and span name (instrumentation names server
// spans by route template, so names stay bounded). Every span is weighted by
// 1/sampling.probability, so a span sampled at 0.5 counts twice; Count is
// the observed number of spans. Rate is the weighted count divided by the
// observed time window of all the data (earliest span start to latest span
// end), so a recorded file always gives the same rates. Duration
// percentiles (p50, p90, p99) are weighted nearest-rank percentiles.
//
// The package reads no environment variables.
package red
