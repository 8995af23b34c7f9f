package bench

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/tracer"
)

// Export pipeline settings shared by flowtrace and the OTel SDK.
const (
	exportBatch = 512
	exportQueue = 2048
	// exportChunk spans are produced between two ForceFlush calls, so that
	// the bounded queue never overflows and every span is delivered.
	exportChunk = exportQueue / 2
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExport measures what flowtrace delivers over real OTLP/gRPC to
// an OTLP receiver (tracetest.NewReceiver) running in another process,
// against the OTel SDK with otlptracegrpc: same spans (the Span workload,
// two spans per iteration), batch size, queue size and compression. Spans
// are produced in chunks of half the queue, each followed by ForceFlush,
// so nothing is dropped; the receiver's count is checked at the end. It
// reports spans delivered per wall second and per CPU second of this
// process (getrusage: user + system, all goroutines, span creation
// included), and CPU µs per span.
func BenchmarkExport(b *testing.B) {
	rcv := startRemoteReceiver(b)
	defer func() { _ = rcv.close() }()
	hostport := strings.TrimPrefix(rcv.endpoint, "http://")

	type pipeline struct {
		work     func()
		flush    func(context.Context) error
		shutdown func(context.Context) error
	}
	tracers := []struct {
		name string
		new  func(b *testing.B, compression string) pipeline
	}{
		{"flowtrace", func(b *testing.B, compression string) pipeline {
			client, err := export.NewOTLPClient(export.OTLPSettings{
				Protocol: export.ProtocolGRPC, Endpoint: rcv.endpoint, Compression: compression,
			})
			if err != nil {
				b.Fatal(err)
			}
			bt := export.NewBatcher(export.NewOTLP(client, resource),
				export.WithMaxBatchSize(exportBatch), export.WithMaxQueueSize(exportQueue))
			tr := tracer.New(tracer.WithProcessor(bt))
			return pipeline{func() { spanWorkload(tr) }, tr.ForceFlush, tr.Shutdown}
		}},
		{"otel-sdk", func(b *testing.B, compression string) pipeline {
			opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(hostport), otlptracegrpc.WithInsecure()}
			if compression == "gzip" {
				opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
			}
			exp, err := otlptracegrpc.New(context.Background(), opts...)
			if err != nil {
				b.Fatal(err)
			}
			tp := sdktrace.NewTracerProvider(
				sdktrace.WithSampler(sdktrace.AlwaysSample()),
				sdktrace.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", "bench"))),
				sdktrace.WithBatcher(exp, sdktrace.WithMaxExportBatchSize(exportBatch), sdktrace.WithMaxQueueSize(exportQueue)),
			)
			tr := tp.Tracer("bench")
			return pipeline{func() { otelSpanWorkload(tr) }, tp.ForceFlush, tp.Shutdown}
		}},
	}
	for _, compression := range []string{"none", "gzip"} {
		for _, t := range tracers {
			b.Run(t.name+"/"+compression, func(b *testing.B) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				p := t.new(b, compression)
				// Warm up the connection outside the measurement.
				p.work()
				if err := p.flush(ctx); err != nil {
					b.Fatal(err)
				}
				rcv.ask(b, "reset")
				b.ReportAllocs()
				cpu0, wall0 := cpuTime(), time.Now()
				var produced int64
				for b.Loop() {
					p.work()
					if produced += 2; produced%exportChunk == 0 {
						if err := p.flush(ctx); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := p.shutdown(ctx); err != nil {
					b.Fatal(err)
				}
				cpu, wall := cpuTime()-cpu0, time.Since(wall0)
				if got := rcv.count(b); got != produced {
					b.Fatalf("receiver got %d spans, want %d", got, produced)
				}
				b.ReportMetric(float64(produced)/wall.Seconds(), "spans/s")
				b.ReportMetric(float64(produced)/cpu.Seconds(), "spans/cpu-s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(produced), "cpu-µs/span")
			})
		}
	}
}
