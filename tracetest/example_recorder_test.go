package tracetest_test

import (
	"context"
	"fmt"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// A Recorder as the tracer's processor: spans are there to assert as soon
// as Finish returns, with no receiver to poll.
func ExampleRecorder() {
	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithProcessor(rec), tracer.WithPropagator(propagation.Default()))
	defer func() { _ = tr.Shutdown(context.Background()) }()

	parent := tr.StartSpan("checkout")
	parent.SetBaggageItem("flow_id", "order-42")
	tr.StartSpan("charge card", opentracing.ChildOf(parent.Context())).Finish()
	parent.Finish()

	for _, s := range rec.Spans() {
		fmt.Println(s.Name, s.ParentSpanID != "", s.Attributes["flow_id"])
	}
	// Output:
	// charge card true order-42
	// checkout false order-42
}
