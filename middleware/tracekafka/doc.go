// Package tracekafka traces github.com/segmentio/kafka-go (v0.4.x)
// producers and consumers through the OpenTracing API, so that a trace and
// its flow id follow a message through a topic.
//
// # Producer
//
// [NewWriter] wraps a *kafka.Writer. [Writer.WriteMessages] starts one
// producer span "send <topic>" per message, injects the trace context and
// the flow id (X-Flow-ID) into a copy of the message's headers (see
// [HeaderCarrier]), and finishes the span when kafka-go reports the message
// written or failed, for synchronous and asynchronous writers alike.
//
// # Consumer
//
// [NewReader] wraps a *kafka.Reader: FetchMessage and ReadMessage give each
// message a short "receive <topic>" span. [StartSpanFromMessage] starts a
// "process <topic>" span for one message that follows from the producer's
// span (or, with [WithLinkOnly], starts a new trace linked to it), with the
// span and flow id in the returned context; [StartBatchSpan] starts one span
// for a batch with one link per message (capped by [WithMaxLinks]);
// [InjectMessage] writes a span's context into a message to re-publish.
//
// These are the hooks package middleware/kafkaconsume builds its consume
// loop on: retries, dead letters, the rule for a message that never
// succeeds, commits and recovered panics are consumption policy and live
// there, not here.
//
// # Tags
//
// Spans carry messaging.system=kafka, messaging.operation,
// messaging.destination.name, messaging.kafka.partition and offset,
// messaging.message.body.size (and messaging.consumer.group.name, the
// message key when asked for). OTEL_SEMCONV_STABILITY_OPT_IN=messaging
// (read when the options are built) emits messaging.operation.type (send
// for publish) and messaging.destination.partition.id instead,
// messaging/dup both. OpenTelemetry's messaging conventions are
// Development, not stable: these names may change with them.
//
// # Flow id, critical operation and traffic source
//
// The flow id (X-Flow-ID) and the critical_operation and traffic_source
// baggage items follow the rules of package middleware, as over HTTP and
// gRPC, and are tagged on producer and consumer spans. A consumer is an edge
// like tracehttp's and tracegrpc's servers, for topics outside producers
// write to: [WithPublicEndpoint], [DefaultTrafficSource] (X-Traffic-Source),
// [WithCriticalOperation] (also on the Writer), [WithCriticalSampling],
// [WithTrafficSource] and [WithFilter] apply to StartSpanFromMessage, and so
// to kafkaconsume's Consume. StartBatchSpan ignores the per-message rules (it
// links, and trusts no incoming flow id at a public consumer either) and
// gets the baggage items only from the context it is given; a consumer
// [WithLinkOnly] starts a new trace and inherits no baggage.
//
// # Hostile messages
//
// Messages without headers, with garbage, duplicated or huge trace
// headers, or with other tracers' headers (uber-trace-id, B3) are consumed
// normally: the trace context is extracted if the configured propagator
// accepts it (a traceparent sent twice is rejected, per W3C), otherwise a
// new trace starts. Nothing is dropped; each case is counted on the
// consuming tracer ([Stats], i.e. tracer.EdgeStats: flowtrace's
// Tracing.Stats().Edge, per tracer, not per process).
//
// # Tested against kfake and kcat
//
// The tests run a real Kafka wire-protocol broker in process
// (github.com/twmb/franz-go/pkg/kfake, see internal/kafkatest; pin
// franz-go v1.22.3 and kmsg v1.15.1 or kfake does not compile) and kcat.
// Verified against kfake: Writer sync and async, with headers and
// Completion; Reader without GroupID (FetchMessage, ReadMessage) and with
// a GroupID (commits, two members sharing two partitions, resuming at the
// committed offset after a restart); kcat producing and consuming headers.
// Notes and workarounds:
//
//   - kafka-go's Writer defaults to RequiredAcks = RequireNone: the broker
//     does not answer, so kafka-go reports offset 0 for every message.
//     Spans then carry the partition but no offset; set RequireOne or
//     RequireAll to get messaging.kafka.offset.
//   - A Writer on kafka.DefaultTransport leaves idle connection goroutines
//     behind (goleak): give each Writer its own &kafka.Transport{};
//     [Writer.Close] closes its idle connections.
//   - kfake, like Kafka, refuses batches over 1 MiB (message.max.bytes):
//     a header of 1 MiB cannot be produced at all.
//   - kafka-go refuses CommitMessages on a Reader without GroupID;
//     package kafkaconsume does not commit for such readers.
//   - CommitMessages with a context cancelled while the commit is in
//     flight may still commit: do not rely on a cancelled commit not
//     having happened.
//
// # Environment
//
// The package reads no environment variables.
package tracekafka
