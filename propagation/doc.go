// Package propagation carries span context, baggage and the flow id across
// process boundaries.
//
// The core types are independent of any tracer: [SpanContext] and [Baggage]
// make up a [State], which a [Propagator] injects into or extracts from a
// [Carrier] (HTTP headers, gRPC metadata, Kafka headers, an OpenTracing text
// map). Formats are registered by name and combined into a composite chosen
// by OTEL_PROPAGATORS.
//
// # Carriers
//
// [HeaderCarrier] (http.Header, a [MultiValueCarrier]) and [MapCarrier] are
// built in; [TextMapCarrier] maps OpenTracing carriers onto them without
// copying. Package propagation/carriertest checks any other implementation.
//
// # Formats and names
//
//	tracecontext  [TraceContext]  W3C traceparent/tracestate (Level 2)
//	baggage       [W3CBaggage]    W3C baggage
//	b3            [B3]            Zipkin B3 single header
//	b3multi       [B3Multi]       Zipkin B3 X-B3-* headers
//	jaeger        [Jaeger]        uber-trace-id and uberctx-{key}
//	flowid        [FlowID]        X-Flow-ID (see package propagation/flowid)
//	none          [None]          nothing
//
// [Register] adds a name (a duplicate panics), [Lookup] finds one, and
// [Default] is tracecontext,baggage,flowid. [Select] (and [FromNames], its
// short form) resolves a list such as OTEL_PROPAGATORS; it is the one place
// where names are judged (config passes them through, so a name a service
// registers itself is reachable from the environment):
//
//   - names are trimmed and matched case-insensitively; empty names and
//     repeats are skipped;
//   - unknown names are left out and reported together in one warning
//     ([Selection.Warning]);
//   - "none" anywhere in the list turns propagation off (the other names
//     are reported as ignored): Inject writes nothing and Extract adopts
//     nothing, the flow id included;
//   - a list with no registered name (empty, or only unknown names) keeps
//     [Default], as any malformed setting keeps its default.
//
// Extract never fails loudly: what cannot be parsed is dropped, bounded by
// the W3C limits, in time linear in the input.
//
// # Several trace formats, and their sampling states
//
// In a composite the first trace format (in the order of the names) that
// yields a valid span context wins, and supplies all of it: ids, sampled
// flag, debug, tracestate. Nothing of a later header is merged in. With
// "tracecontext,jaeger" and both headers present but disagreeing (other
// ids, traceparent -00 against uber-trace-id flags 3), traceparent wins:
// the context is not sampled and not debug. An invalid first header does
// not hide a valid later one.
//
// [SpanContext] carries two sampling states beside the W3C sampled flag:
// Deferred (B3 without a sampling state: the receiving tracer's sampler
// decides) and Debug (B3 d or X-B3-Flags: 1, the Jaeger debug bit: forced
// sampling). Formats that cannot express them write the nearest thing:
// W3C and Jaeger send a deferred context as not sampled, W3C sends debug as
// sampled.
//
// # Baggage precedence
//
// When several formats carry baggage:
//
//  1. W3C baggage members come first: they replace members with the same
//     key that other formats extracted.
//  2. uberctx- members (Jaeger) only fill keys not already present.
//  3. The X-Flow-ID header always wins for flow_id: [Composite] runs
//     [FlowID] last, and FlowID replaces a flow_id that arrived as baggage
//     (counting the mismatch).
//
// This does not depend on the order of the names.
//
// The package reads no environment variables itself; flowtrace.Start hands
// the names config read from OTEL_PROPAGATORS to [Select].
package propagation
