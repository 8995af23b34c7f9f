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
// It implements the flow-id precedence, trust boundary and routing rules
// written in package middleware's doc, which are the oracle of
// middleware/internal/crosstest TestConformance.
package instr
