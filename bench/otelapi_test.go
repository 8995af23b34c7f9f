package bench

import (
	"context"
	"testing"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel/attribute"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/oteltracer"
	"github.com/flowtrace/flowtrace/tracer"
)

// The OpenTelemetry API bar of issue 18: one span started and ended with
// five attributes, through flowtrace's OpenTelemetry API, through its
// OpenTracing API, and through the OpenTelemetry SDK, each into OTLP
// conversion (a batcher and exporter of defaults whose transport, or
// client, discards the result).

// fiveAttrs are the attributes, built once as instrumentation builds its
// constant ones: the benchmark measures the tracer, not the caller's
// attribute construction.
var fiveAttrs = []attribute.KeyValue{
	attribute.String("component", "bench"),
	attribute.Int("attempt", 3),
	attribute.Bool("cached", true),
	attribute.String("http.method", "GET"),
	attribute.Int("http.status_code", 200),
}

func otelFive(ctx context.Context, tr oteltrace.Tracer) {
	_, s := tr.Start(ctx, "GET /orders/{id}")
	s.SetAttributes(fiveAttrs...)
	s.End()
}

func otFive(tr opentracing.Tracer) {
	otFiveTags(tr.StartSpan("GET /orders/{id}"))
}

// otFiveCtx is otFive started the way OpenTelemetry's Start starts a
// span: from a context, returning the context the span is current in.
func otFiveCtx(ctx context.Context, tr opentracing.Tracer) {
	s, _ := opentracing.StartSpanFromContextWithTracer(ctx, tr, "GET /orders/{id}")
	otFiveTags(s)
}

func otFiveTags(s opentracing.Span) {
	s.SetTag("component", "bench")
	s.SetTag("attempt", 3)
	s.SetTag("cached", true)
	s.SetTag("http.method", "GET")
	s.SetTag("http.status_code", 200)
	s.Finish()
}

// flowtraceBoth is flowtraceOTLP's pipeline with its OpenTelemetry API.
func flowtraceBoth(tb testing.TB, sampled bool) (*tracer.Tracer, oteltrace.Tracer, func()) {
	b := export.NewBatcher(export.NewOTLP(discardClient{}, resource))
	opts := []tracer.Option{tracer.WithProcessor(b)}
	if !sampled {
		opts = append(opts, tracer.WithSampler(tracer.AlwaysOff()))
	}
	tr := tracer.New(opts...)
	return tr, oteltracer.NewProvider(tr).Tracer("bench"), func() {
		shutdown(tb, tr.Shutdown)
		reportDropped(tb, b)
	}
}

func BenchmarkOTelAPISpan(b *testing.B) {
	ctx := context.Background()
	for _, sampled := range []bool{true, false} {
		suffix := ""
		if !sampled {
			suffix = "-unsampled"
		}
		b.Run("flowtrace-otel"+suffix, func(b *testing.B) {
			_, otel, done := flowtraceBoth(b, sampled)
			defer done()
			b.ReportAllocs()
			for b.Loop() {
				otelFive(ctx, otel)
			}
		})
		b.Run("flowtrace-opentracing"+suffix, func(b *testing.B) {
			ot, _, done := flowtraceBoth(b, sampled)
			defer done()
			b.ReportAllocs()
			for b.Loop() {
				otFive(ot)
			}
		})
		b.Run("flowtrace-opentracing-ctx"+suffix, func(b *testing.B) {
			ot, _, done := flowtraceBoth(b, sampled)
			defer done()
			b.ReportAllocs()
			for b.Loop() {
				otFiveCtx(ctx, ot)
			}
		})
	}
	b.Run("otel-sdk-otlp", func(b *testing.B) {
		tp := otelProvider(otelOTLPExporter(b))
		defer shutdown(b, tp.Shutdown)
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		for b.Loop() {
			otelFive(ctx, tr)
		}
	})
}
