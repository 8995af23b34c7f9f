package tracekafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/semconv/stability"
)

// TestStabilityModes: a message written and consumed through a real
// (kfake) broker in each messaging mode of OTEL_SEMCONV_STABILITY_OPT_IN;
// the exact tag set of the send and process spans. OpenTelemetry's
// messaging conventions are Development: only the switch changes them.
func TestStabilityModes(t *testing.T) {
	topic := ""
	send := func(m ...map[string]any) map[string]any {
		out := map[string]any{"span.kind": "producer", "flow_id": "FLOW", "messaging.system": "kafka", "messaging.destination.name": topic,
			"messaging.message.body.size": 1, "messaging.kafka.offset": "OFFSET"}
		for _, x := range m {
			for k, v := range x {
				out[k] = v
			}
		}
		return out
	}
	process := func(m ...map[string]any) map[string]any {
		out := map[string]any{"span.kind": "consumer", "flow_id": "FLOW", "messaging.system": "kafka", "messaging.destination.name": topic,
			"messaging.message.body.size": 1, "messaging.kafka.offset": "OFFSET",
			"error": true} // the handler stops consuming with an error
		for _, x := range m {
			for k, v := range x {
				out[k] = v
			}
		}
		return out
	}
	legacySend := map[string]any{"messaging.operation": "publish", "messaging.kafka.partition": 0}
	stableSend := map[string]any{"messaging.operation.type": "send", "messaging.destination.partition.id": "0"}
	legacyProc := map[string]any{"messaging.operation": "process", "messaging.kafka.partition": 0}
	stableProc := map[string]any{"messaging.operation.type": "process", "messaging.destination.partition.id": "0"}
	for _, tc := range []struct {
		optIn         string
		send, process map[string]any
	}{
		{"", send(legacySend), process(legacyProc)},
		{"http,database", send(legacySend), process(legacyProc)},
		{"messaging", send(stableSend), process(stableProc)},
		{"messaging/dup", send(legacySend, stableSend), process(legacyProc, stableProc)},
	} {
		t.Run("mode="+tc.optIn, func(t *testing.T) {
			t.Setenv(stability.EnvOptIn, tc.optIn)
			var b interface{ Addr() string }
			b, topic = newBroker(t, 1)
			tc.send["messaging.destination.name"], tc.process["messaging.destination.name"] = topic, topic
			mt := mocktracer.New()
			w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(mt))
			ctx := ctxTimeout(t, 15*time.Second)
			require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("x")}))
			r := rawReader(t, b.Addr(), topic, "")
			var offset int64 = -1
			require.ErrorIs(t, consumeFrom(ctx, r, &offset, mt), errStop)
			spans := mt.FinishedSpans()
			require.Len(t, spans, 2)
			norm := func(tags map[string]any) map[string]any {
				out := map[string]any{}
				for k, v := range tags {
					switch k {
					case "flow_id":
						v = "FLOW"
					case "messaging.kafka.offset":
						require.EqualValues(t, offset, v)
						v = "OFFSET"
					case "span.kind":
						v = fmt.Sprint(v)
					}
					out[k] = v
				}
				return out
			}
			require.Equal(t, tc.send, norm(spans[0].Tags()), "send span")
			require.Equal(t, tc.process, norm(spans[1].Tags()), "process span")
		})
	}
}

// consumeFrom consumes one message of r and records its offset.
func consumeFrom(ctx context.Context, r *kafka.Reader, offset *int64, mt *mocktracer.MockTracer) error {
	return consume(ctx, r, func(_ context.Context, m kafka.Message) error {
		*offset = m.Offset
		return errStop
	}, tracekafka.WithTracer(mt))
}
