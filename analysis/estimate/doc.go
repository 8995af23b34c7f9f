// Package estimate turns an edge traffic forecast into the load each
// service, operation and Kafka topic behind the edge will receive.
//
// A forecast names a rate per critical user operation
// ("checkout=1200/s,browse=30000/s"; units /s, /m or /h). A key matches the
// traces whose critical_operation is that key; when no trace has it, the
// traces whose root span has that name.
//
// For each key, with every span and trace weighted by
// 1/sampling.probability:
//
//	fan-out(service, op) = weighted server+consumer spans of (service, op)
//	                       / weighted matching traces
//	fan-out(topic)       = weighted Kafka producer spans to topic
//	                       / weighted matching traces
//	expected rate        = forecast rate × fan-out
//
// and the expected rates of all keys add up. Each estimate says how many
// traces it rests on and warns below [MinTraces].
//
// Consumers reached through span links rather than as children (a
// kafkaconsume ConsumeBatch span linking to each message's producer, or a
// WithLinkOnly consumer that starts a trace of its own) count for the traces they link
// to: a link from a batch of n messages stands for 1/n of a call and one
// message, so a batch consumer's fan-out is in calls (batches) and, beside
// it, in messages. Such a span is not counted in its own trace.
//
// The estimate is only as complete as the traces: client calls in matching
// traces that have no server span, and orphan fragments, are reported in
// [Operation.Notes] (the load behind them is missing), and the whole
// data's counts in [Estimate.Integrity] (see package
// [github.com/flowtrace/flowtrace/analysis/trace]).
//
// [Accumulator] computes the estimate trace by trace in bounded memory,
// following links through a [github.com/flowtrace/flowtrace/analysis/trace.SpanIndex]; [Compute] is it over
// traces in memory.
//
// The package reads no environment variables.
package estimate
