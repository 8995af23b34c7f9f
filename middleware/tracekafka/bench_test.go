package tracekafka_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/tracer"
)

// discard is a processor that drops finished spans: the benchmark measures
// the middleware and the tracer, not the exporter.
type discard struct{}

func (discard) OnEnd(*tracer.SpanData)           {}
func (discard) ForceFlush(context.Context) error { return nil }
func (discard) Shutdown(context.Context) error   { return nil }

// BenchmarkProduceConsume produces 10,000 small messages (in writes of 100)
// and consumes them with Consume through kfake, untraced and traced.
// Compare msgs/s of the two: the throughput ratio.
//
//	go test -run '^$' -bench ProduceConsume -benchtime 3x ./middleware/tracekafka/
func BenchmarkProduceConsume(b *testing.B) {
	const n, perWrite = 10_000, 100
	for _, traced := range []bool{false, true} {
		name := "untraced"
		if traced {
			name = "traced"
		}
		b.Run(name, func(b *testing.B) {
			var opts []tracekafka.Option
			if traced {
				opts = append(opts, tracekafka.WithTracer(tracer.New(tracer.WithProcessor(discard{}))))
			} else {
				opts = append(opts, tracekafka.WithTracer(noopTracer{}))
			}
			b.ReportAllocs()
			var total time.Duration
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			for i := 0; b.Loop(); i++ {
				broker, err := kafkatest.Start(1)
				if err != nil {
					b.Fatal(err)
				}
				topic := fmt.Sprintf("bench%d", i)
				if err := broker.CreateTopic(topic, 1); err != nil {
					b.Fatal(err)
				}
				msgs := make([]kafka.Message, perWrite)
				for j := range msgs {
					msgs[j] = kafka.Message{Value: []byte("small payload")}
				}
				start := time.Now()
				raw := rawWriter(broker.Addr(), topic)
				raw.BatchSize = perWrite
				var produce func(context.Context, ...kafka.Message) error = raw.WriteMessages
				var closeW func() error = func() error { err := raw.Close(); raw.Transport.(*kafka.Transport).CloseIdleConnections(); return err }
				if traced {
					w := tracekafka.NewWriter(raw, opts...)
					produce, closeW = w.WriteMessages, w.Close
				}
				for j := 0; j < n/perWrite; j++ {
					if err := produce(context.Background(), msgs...); err != nil {
						b.Fatal(err)
					}
				}
				_ = closeW()
				r := rawReader(b, broker.Addr(), topic, "")
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				got := 0
				handler := func(ctx context.Context, m kafka.Message) error {
					if got++; got == n {
						cancel()
					}
					return nil
				}
				if traced {
					_ = consume(ctx, r, handler, opts...)
				} else {
					for got < n {
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
				broker.Close()
				if got != n {
					b.Fatalf("consumed %d of %d", got, n)
				}
			}
			runtime.ReadMemStats(&ms1)
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(n*b.N), "allocs/msg")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// noopTracer keeps the option type happy for the untraced run, which does
// not use the middleware at all.
type noopTracer = opentracing.NoopTracer
