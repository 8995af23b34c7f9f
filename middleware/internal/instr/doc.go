// Package instr is the one instrumentation engine behind tracehttp,
// tracegrpc and tracekafka. The transports hand it a carrier (headers,
// metadata, message headers), their span name and kind, and their rules;
// the engine owns, with one vocabulary for all three:
//
//   - extraction through the tracer's configured propagators
//     ([Engine.Extract]) and injection ([Engine.Inject]);
//   - the public-endpoint trust decision, the critical-operation and
//     traffic-source decisions ([Rules.Decide]);
//   - flow-id resolution: one precedence, one set of tags, one generation
//     rule ([Incoming], [Outgoing]);
//   - span start ([Engine.StartInbound], [Engine.StartOutbound]);
//   - the single check for flowtrace's own tracer ([Own], [Recording],
//     [ValidContext]): no other middleware code asserts flowtrace's types.
//
// # Flow-id precedence (the conformance test's oracle)
//
// Inbound (a server request, a gRPC call, a consumed message):
//
//  1. At a public endpoint nothing that came in is trusted: the flow id is
//     new. A valid incoming flow id is recorded as flow_id.incoming, an
//     invalid one (sanitised) as flow_id.invalid.
//  2. Otherwise the flow-id header (X-Flow-ID; x-flow-id in gRPC metadata)
//     wins when it is exactly one valid value, also over a different
//     flow_id baggage item (the flowid propagator's rule).
//  3. A header that is present but invalid (empty, too long, characters
//     outside the safe set, several values) is recorded, sanitised, as
//     flow_id.invalid, and the resolution goes on as if it were absent.
//  4. Then a valid flow_id baggage item that came with the trace context.
//  5. Else a new id (flowid.New).
//
// Outbound (a client request, a gRPC call, a produced message): the flow id
// of the context (flowid.FromContext: flowid.ContextWith, else the flow_id
// baggage of the span in the context), else a valid flow id the caller
// already put on the outgoing carrier, else a new one: every hop of a flow
// carries a flow id from its first span on, whoever starts it.
//
// Whichever way it was found, the flow id becomes the span's flow_id
// baggage item (so flowtrace's tracer tags it and propagates it), is tagged
// flow_id for other tracers, and is written to the carrier's flow-id key
// after the tracer's own injection, whether or not the tracer's propagators
// include flowid. An inbound side puts it in the handler's context and the
// servers echo it in their response headers.
//
// A filtered request or call (WithFilter returned false) gets no span and
// no extraction: on the server its flow id is the single valid header
// (never at a public endpoint), else a new one, put in the context and
// echoed; on the client the caller's trace context and flow id are passed
// on unchanged and nothing is made up.
//
// # Critical operation and traffic source
//
// A trusted caller's valid critical_operation and traffic_source baggage
// wins over the server's rules and is tagged. A public endpoint discards
// incoming baggage. A rule's critical operation (when the registry allows
// it) forces sampling, at most Limit a second per operation. A traffic-
// source rule's result the registry does not allow is "unknown"; a public
// endpoint without a rule applies [TrafficSource] to the transport's
// traffic-source key: its single allowed value, else "unknown" (also when
// it is absent).
package instr
