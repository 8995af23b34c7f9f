package bench

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	jaeger "github.com/uber/jaeger-client-go"
	"github.com/uber/jaeger-client-go/transport"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

const (
	// blackholeSpans are finished, one after the other, per iteration.
	blackholeSpans = 100_000
	// shutdownDeadline is the context given to Shutdown.
	shutdownDeadline = time.Second
	// closeCap bounds the wait for a Close that takes no context
	// (jaeger-client-go): past it the blackhole is closed, which fails the
	// stuck request, and the reported time is the cap (a lower bound).
	closeCap = 3 * time.Second
)

// BenchmarkFinishBlackholed finishes blackholeSpans spans per iteration
// with the exporter pointed at a collector that accepts TCP connections and
// never answers (tracetest.NewBlackhole), using each library's default
// queue and batch settings, then shuts the tracer down with a 1 s deadline.
// It reports the p50, p99, p99.9 and max latency of Finish/End alone and how
// long Shutdown/Close took. Use -benchtime=1x: one iteration is the whole
// measurement (about 1-4 s).
func BenchmarkFinishBlackholed(b *testing.B) {
	type victim struct {
		finish func() time.Duration // start a span, set a tag, time only its Finish
		stop   func(context.Context) error
	}
	cases := []struct {
		name string
		new  func(b *testing.B, bh *tracetest.Blackhole) victim
	}{
		{"flowtrace", func(b *testing.B, bh *tracetest.Blackhole) victim {
			client, err := export.NewOTLPClient(export.OTLPSettings{Protocol: export.ProtocolGRPC, Endpoint: bh.Endpoint()})
			if err != nil {
				b.Fatal(err)
			}
			tr := tracer.New(tracer.WithProcessor(export.NewBatcher(export.NewOTLP(client, resource))))
			return victim{otFinish(tr), tr.Shutdown}
		}},
		{"otel-sdk", func(b *testing.B, bh *tracetest.Blackhole) victim {
			// The SDK's Shutdown returns at its deadline but leaves its
			// goroutine exporting what is queued, batch after batch, each
			// waiting out the exporter's timeout (10 s by default, so up
			// to a minute): shortened so that the benchmark ends cleanly.
			// It changes neither Finish nor Shutdown.
			exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(bh.Addr()),
				otlptracegrpc.WithInsecure(), otlptracegrpc.WithTimeout(250*time.Millisecond))
			if err != nil {
				b.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(exp))
			tr := tp.Tracer("bench")
			return victim{func() time.Duration {
				_, span := tr.Start(context.Background(), "op")
				span.SetAttributes(attribute.String("component", "bench"))
				t0 := time.Now()
				span.End()
				return time.Since(t0)
			}, tp.Shutdown}
		}},
		{"jaeger-http", func(b *testing.B, bh *tracetest.Blackhole) victim {
			sender := transport.NewHTTPTransport("http://" + bh.Addr() + "/api/traces")
			tr, closer := jaeger.NewTracer("bench", jaeger.NewConstSampler(true), jaeger.NewRemoteReporter(sender))
			return victim{otFinish(tr), func(context.Context) error { return closer.Close() }}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			defer waitGoroutines(runtime.NumGoroutine(), 5*time.Second)
			lat := make([]time.Duration, blackholeSpans)
			var p50, p99, p999, maxLat, stop time.Duration
			for b.Loop() {
				bh, err := tracetest.NewBlackhole()
				if err != nil {
					b.Fatal(err)
				}
				v := c.new(b, bh)
				for i := range lat {
					lat[i] = v.finish()
				}
				ctx, cancel := context.WithTimeout(context.Background(), shutdownDeadline)
				t0 := time.Now()
				done := make(chan struct{})
				go func() { defer close(done); _ = v.stop(ctx) }()
				select {
				case <-done:
					stop += time.Since(t0)
				case <-time.After(closeCap):
					stop += closeCap
				}
				_ = bh.Close()
				<-done
				cancel()
				slices.Sort(lat)
				p50 += lat[len(lat)/2]
				p99 += lat[len(lat)*99/100]
				p999 += lat[len(lat)*999/1000]
				maxLat += lat[len(lat)-1]
			}
			n := time.Duration(b.N)
			b.ReportMetric(float64(p50/n), "p50-ns")
			b.ReportMetric(float64(p99/n), "p99-ns")
			b.ReportMetric(float64(p999/n), "p99.9-ns")
			b.ReportMetric(float64(maxLat/n), "max-ns")
			b.ReportMetric(float64((stop / n).Milliseconds()), "shutdown-ms")
		})
	}
}

// waitGoroutines waits, up to limit, until no more than n goroutines run:
// exporters that outlive their Shutdown finish before the next benchmark.
func waitGoroutines(n int, limit time.Duration) {
	for deadline := time.Now().Add(limit); runtime.NumGoroutine() > n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// otFinish times Finish of an OpenTracing span with one tag.
func otFinish(tr opentracing.Tracer) func() time.Duration {
	return func() time.Duration {
		span := tr.StartSpan("op")
		span.SetTag("component", "bench")
		t0 := time.Now()
		span.Finish()
		return time.Since(t0)
	}
}
