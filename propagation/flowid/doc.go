// Package flowid handles the flow id: a short, safe identifier of a business
// flow (a checkout, a batch run) that crosses every hop as the "flow_id"
// baggage member and travels on the wire as the X-Flow-ID header (HTTP and
// Kafka; x-flow-id in gRPC metadata, whose carrier lower-cases keys).
//
// A valid flow id is 1 to 128 bytes of [A-Za-z0-9._~+/=:-]; see [Valid].
// [New] makes a fresh one, [FromTraceID] derives one from a trace id, and
// [Sanitize] turns an invalid incoming value into something safe to record
// on a span.
//
// [Propagator] (registered as "flowid" in package propagation) maps the
// baggage member to the header: the header wins over incoming baggage, and
// an invalid header is ignored so that middleware can replace it with
// [New]. Both are counted per propagator (propagation.FlowID.Stats; each
// flowtrace.Start has its own, in Tracing.Stats().FlowID), not per
// process.
//
// [ContextWith] and [FromContext] carry the flow id in a context.Context; an
// OpenTracing span's "flow_id" baggage item is the fallback.
//
// The package reads no environment variables.
package flowid
