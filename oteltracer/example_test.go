package oteltracer_test

import (
	"context"
	"fmt"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/oteltracer"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// A library instrumented with OpenTelemetry, called from code
// instrumented with OpenTracing, records its span into the same trace.
// flowtrace.Start does the wiring itself (otel.SetTracerProvider); here it
// is spelled out.
func Example() {
	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithProcessor(rec))
	provider := oteltracer.NewProvider(tr)

	handler := tr.StartSpan("GET /orders/{id}")
	ctx := opentracing.ContextWithSpan(context.Background(), handler)

	// Inside the library: only the OpenTelemetry API.
	lib := provider.Tracer("github.com/acme/orderdb", trace.WithInstrumentationVersion("1.4.0"))
	_, query := lib.Start(ctx, "SELECT orders", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "postgresql")))
	query.End()
	handler.Finish()

	h, _ := rec.FindSpan("GET /orders/{id}")
	q, _ := rec.FindSpan("SELECT orders")
	fmt.Println("same trace:", q.TraceID == h.TraceID)
	fmt.Println("child of the handler:", q.ParentSpanID == h.SpanID)
	fmt.Println("scope:", q.ScopeName, q.ScopeVersion)
	// Output:
	// same trace: true
	// child of the handler: true
	// scope: github.com/acme/orderdb 1.4.0
}
