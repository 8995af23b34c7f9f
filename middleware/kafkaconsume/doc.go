// Package kafkaconsume runs handlers over a github.com/segmentio/kafka-go
// reader with a consumption policy: retries with backoff, dead letters,
// what to do with a message that never succeeds, and when to commit. The
// spans come from package tracekafka's hooks (StartSpanFromMessage,
// StartBatchSpan, InjectMessage); tracekafka itself only traces.
//
//	c := kafkaconsume.New(reader,
//		kafkaconsume.WithTracing(tracekafka.WithTracer(tr)),
//		kafkaconsume.WithDeadLetter(dlqWriter))
//	err := c.Consume(ctx, handle)
//
// # Defaults: what a kafka-go user expects
//
// kafka-go's ReadMessage commits each message as it is read: a handler
// error never stops the partition. A Consumer keeps that promise while
// committing later, once a message is done with:
//
//   - the handler runs up to 3 times (DefaultAttempts), 100ms apart and
//     doubling (WithRetry);
//   - a message that still fails is dead-lettered when WithDeadLetter is
//     set, and otherwise skipped ([Skip], the default of [WithOnFailure]):
//     committed past so that later messages of the partition are handled.
//     Its span is failed and tagged messaging.kafka.skipped (or
//     messaging.kafka.dead_lettered), it is counted in [Stats] (Failed,
//     Skipped, DeadLettered) and a warning names its topic, partition,
//     offset and error (at most LogBurst lines at once, then one a second,
//     the rest counted in Stats.LogSuppressed);
//   - [Stop] is the strict alternative: return the error without
//     committing, so that a restart gets the message again. A message that
//     can never succeed then blocks its partition; the warning and the
//     counters say which one.
//
// A panic in a handler is recovered inside the consume loop: the span gets
// a "panic" event, is marked failed and finished, so it is exported like
// any other, and the message counts as a failed attempt ([PanicError],
// with the value and the stack, is the error). The process does not die,
// and a restarted consumer does not crash-loop on the same message.
//
// # Commits
//
// A message (or batch) is committed once the handler returned nil, or once
// it was dead-lettered or skipped; never past one that is still being
// retried. When the context ends during retries, Consume returns without
// committing, skipping or dead-lettering: a shutdown gives up on nothing.
// A dead-letter write that fails stops the consumer without committing (a
// broken dead-letter topic is not a bad message). Readers without a
// GroupID keep no offsets and are not committed (kafka-go refuses it).
// kafka-go readers with CommitInterval > 0 commit asynchronously: a crash
// can then redeliver messages already handled.
//
// # Counters
//
// Each Consumer has its own [Stats], so tests and services with several
// consumers read their own figures. The header counters of the spans
// stay with tracekafka, per tracer (Tracing.Stats().Edge).
//
// # Tested against kfake
//
// The tests run on a real Kafka wire-protocol broker in process
// (internal/kafkatest): a poison message with Skip and with Stop, a
// panicking handler, dead letters (written and failing), retries that
// succeed, cancellation during retries, the rate-limited log, batches and
// two members of one group.
//
// # Environment
//
// The package reads no environment variables.
package kafkaconsume
