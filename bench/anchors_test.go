package bench

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	jaeger "github.com/uber/jaeger-client-go"
	"go.opentelemetry.io/otel/attribute"
	otelbridge "go.opentelemetry.io/otel/bridge/opentracing"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/tracer"
)

// discardClient is an OTLP client whose uploads go nowhere: the spans are
// converted to OTLP protobuf (and, for flowtrace's transport, encoded),
// exactly as for a real collector, then dropped. It is both an
// otlptrace.Client (for the OTel SDK) and an export.Transport.
type discardClient struct{}

func (discardClient) Start(context.Context) error                                  { return nil }
func (discardClient) Stop(context.Context) error                                   { return nil }
func (discardClient) UploadTraces(context.Context, []*tracepb.ResourceSpans) error { return nil }
func (discardClient) Send(context.Context, []byte) (export.Response, error) {
	return export.Response{}, nil
}
func (discardClient) Close(context.Context) error { return nil }

type discardSpanExporter struct{}

func (discardSpanExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardSpanExporter) Shutdown(context.Context) error                             { return nil }

var resource = []tracer.Attribute{{Key: "service.name", Value: "bench"}}

// anchor is one tracer under test, built fresh per benchmark and closed after.
type anchor struct {
	name string
	new  func(tb testing.TB) (opentracing.Tracer, func())
}

// flowtraceOTLP has the batcher's default settings (queue, batch size,
// bytes), as a service gets them: spans are encoded to OTLP protobuf and
// handed to a transport that discards the bytes. A span the queue refused
// is reported in dropped/op, since dropping is cheaper than exporting.
func flowtraceOTLP(tb testing.TB) (opentracing.Tracer, func()) {
	b := export.NewBatcher(export.NewOTLP(discardClient{}, resource))
	tr := tracer.New(tracer.WithProcessor(b))
	return tr, func() {
		shutdown(tb, tr.Shutdown)
		reportDropped(tb, b)
	}
}

// reportDropped adds the spans b dropped per benchmark iteration, when
// there were any.
func reportDropped(tb testing.TB, b *export.Batcher) {
	bb, ok := tb.(*testing.B)
	if n := b.Stats().Dropped(); ok && n > 0 {
		bb.ReportMetric(float64(n)/float64(bb.N), "dropped/op")
	}
}

// flowtraceNullExport is flowtrace's caller's path alone: the tracer and
// the batcher's enqueue, with an exporter that drops spans unconverted.
// flowtrace-otlp minus this is the cost of the OTLP conversion.
func flowtraceNullExport(tb testing.TB) (opentracing.Tracer, func()) {
	b := export.NewBatcher(export.NewDiscard())
	tr := tracer.New(tracer.WithProcessor(b))
	return tr, func() {
		shutdown(tb, tr.Shutdown)
		reportDropped(tb, b)
	}
}

func flowtraceUnsampled(testing.TB) (opentracing.Tracer, func()) {
	return tracer.New(tracer.WithSampler(tracer.AlwaysOff())), func() {}
}

func jaegerNull(testing.TB) (opentracing.Tracer, func()) {
	tr, closer := jaeger.NewTracer("bench", jaeger.NewConstSampler(true), jaeger.NewNullReporter())
	return tr, func() { _ = closer.Close() }
}

func jaegerRemote(tb testing.TB) (opentracing.Tracer, func()) {
	// A UDP sender to a port nothing listens on: the agent path without an agent.
	sender, err := jaeger.NewUDPTransport("127.0.0.1:9", 0)
	if err != nil {
		tb.Fatal(err)
	}
	tr, closer := jaeger.NewTracer("bench", jaeger.NewConstSampler(true), jaeger.NewRemoteReporter(sender, jaeger.ReporterOptions.QueueSize(1<<16)))
	return tr, func() { _ = closer.Close() }
}

func otelProvider(exp sdktrace.SpanExporter) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(1<<16)),
	)
}

func otelOTLPExporter(tb testing.TB) sdktrace.SpanExporter {
	exp, err := otlptrace.New(context.Background(), discardClient{})
	if err != nil {
		tb.Fatal(err)
	}
	return exp
}

func otelBridge(tb testing.TB) (opentracing.Tracer, func()) {
	tp := otelProvider(otelOTLPExporter(tb))
	bt, _ := otelbridge.NewTracerPair(tp.Tracer("bench"))
	return bt, func() { shutdown(tb, tp.Shutdown) }
}

func mock(testing.TB) (opentracing.Tracer, func()) { return mocktracer.New(), func() {} }

func noop(testing.TB) (opentracing.Tracer, func()) { return opentracing.NoopTracer{}, func() {} }

func shutdown(tb testing.TB, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		tb.Log("shutdown:", err)
	}
}

// openTracingAnchors are the tracers measured through the OpenTracing API.
var openTracingAnchors = []anchor{
	{"noop", noop},
	{"mocktracer", mock},
	{"jaeger-null", jaegerNull},
	{"jaeger-remote", jaegerRemote},
	{"otel-bridge-otlp", otelBridge},
	{"flowtrace-otlp", flowtraceOTLP},
	{"flowtrace-nullexport", flowtraceNullExport},
	{"flowtrace-unsampled", flowtraceUnsampled},
}

var _ io.Closer = nopCloser{}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// otelSpanWorkload is spanWorkload written against the OpenTelemetry API.
func otelSpanWorkload(tr oteltrace.Tracer) {
	ctx, root := tr.Start(context.Background(), "GET /orders/{id}")
	root.SetAttributes(
		attribute.String("component", "bench"),
		attribute.Int("attempt", 3),
		attribute.Bool("cached", true),
		attribute.String("http.method", "GET"),
		attribute.Int("http.status_code", 200),
	)
	root.AddEvent("cache miss", oteltrace.WithAttributes(attribute.String("key", "order:42"), attribute.Int("size", 512)))
	_, child := tr.Start(ctx, "SELECT orders")
	child.End()
	root.End()
}
