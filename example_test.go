package flowtrace_test

import (
	"context"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/config"
)

func Example() {
	tracing := flowtrace.Start(context.Background(), config.WithServiceName("checkout"), config.WithExporter(config.ExporterNone))
	defer tracing.Close()

	// Instrument against the OpenTracing API: the global tracer is flowtrace's.
	span := opentracing.StartSpan("charge card")
	span.SetTag("payment.provider", "acme")
	span.Finish()
	// Output:
}
