package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
)

// BenchmarkKafka produces kafkaMessages small messages (writes of 100) and
// consumes them all through an in-process kfake broker, per iteration,
// untraced (plain kafka-go, with and without trace headers) and traced by flowtrace (tracekafka.NewWriter
// and kafkaconsume over tracekafka: a producer span per message and a consumer span
// per message, exported through OTLP conversion). It reports messages per
// second and allocations per message; the broker runs in this process, so
// allocs/msg includes its share, equal in both cases: the difference is the
// tracing cost.
func BenchmarkKafka(b *testing.B) {
	const kafkaMessages, perWrite = 5_000, 100
	// bare-headers carries the headers a traced message carries (W3C trace
	// context, baggage, flow id), as constants, without tracing: it
	// separates the cost of bigger messages from the cost of the tracer.
	headers := []kafka.Header{
		{Key: "traceparent", Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")},
		{Key: "baggage", Value: []byte("flow_id=4f1c2a9e-1d2b-4c3d-9e8f-7a6b5c4d3e2f")},
		{Key: "x-flow-id", Value: []byte("4f1c2a9e-1d2b-4c3d-9e8f-7a6b5c4d3e2f")},
	}
	for _, mode := range []string{"bare", "bare-headers", "flowtrace"} {
		traced := mode == "flowtrace"
		b.Run(mode, func(b *testing.B) {
			var opts []tracekafka.Option
			if traced {
				tr, done := flowtraceOTLP(b)
				defer done()
				opts = append(opts, tracekafka.WithTracer(tr))
			}
			cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
			if err != nil {
				b.Fatal(err)
			}
			defer cluster.Close()
			addr := cluster.ListenAddrs()[0]
			msgs := make([]kafka.Message, perWrite)
			for j := range msgs {
				msgs[j] = kafka.Message{Value: []byte("small payload")}
				if mode == "bare-headers" {
					msgs[j].Headers = headers
				}
			}
			b.ReportAllocs()
			var total time.Duration
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			for i := 0; b.Loop(); i++ {
				topic := fmt.Sprintf("bench%d", i)
				if err := cluster.CreateTopic(topic, 1, nil); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				transport := &kafka.Transport{}
				raw := &kafka.Writer{
					Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.RoundRobin{},
					RequiredAcks: kafka.RequireAll, BatchSize: perWrite, BatchTimeout: 5 * time.Millisecond,
					Transport: transport,
				}
				produce, closeW := raw.WriteMessages, raw.Close
				if traced {
					w := tracekafka.NewWriter(raw, opts...)
					produce, closeW = w.WriteMessages, w.Close
				}
				for range kafkaMessages / perWrite {
					if err := produce(context.Background(), msgs...); err != nil {
						b.Fatal(err)
					}
				}
				_ = closeW()
				transport.CloseIdleConnections()
				r := kafka.NewReader(kafka.ReaderConfig{
					Brokers: []string{addr}, Topic: topic, MinBytes: 1, MaxBytes: 10 << 20,
					MaxWait: 50 * time.Millisecond, StartOffset: kafka.FirstOffset,
					ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: 50 * time.Millisecond,
				})
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				got := 0
				handler := func(context.Context, kafka.Message) error {
					if got++; got == kafkaMessages {
						cancel()
					}
					return nil
				}
				if traced {
					_ = kafkaconsume.New(r, kafkaconsume.WithTracing(opts...)).Consume(ctx, handler)
				} else {
					for got < kafkaMessages {
						m, err := r.FetchMessage(ctx)
						if err != nil {
							b.Fatal(err)
						}
						_ = handler(ctx, m)
					}
				}
				cancel()
				total += time.Since(start)
				_ = r.Close()
				if got != kafkaMessages {
					b.Fatalf("consumed %d of %d", got, kafkaMessages)
				}
			}
			runtime.ReadMemStats(&ms1)
			n := float64(kafkaMessages * b.N)
			b.ReportMetric(n/total.Seconds(), "msgs/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/n, "allocs/msg")
			b.ReportMetric(float64(total.Nanoseconds())/n, "ns/msg")
		})
	}
}
