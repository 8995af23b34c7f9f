package semconv_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/opentracing/opentracing-go/ext"

	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// Typed helpers name every tag; enumerations are constants.
func Example() {
	tr := tracer.New(tracer.WithProcessor(discard{}))
	span := tr.StartSpan("GET /cart", ext.SpanKindRPCServer, semconv.CriticalOperation.Tag("checkout"))
	semconv.HTTPMethod.Set(span, semconv.HTTPMethodGet)
	semconv.HTTPRoute.Set(span, "/cart")
	semconv.HTTPStatusCode.Set(span, 200)
	semconv.TrafficSource.Set(span, semconv.TrafficSourceLoadTest)
	span.LogFields(semconv.Event.Field("error"), semconv.Message.Field("cart service slow"))
	span.Finish()
	fmt.Println(semconv.HTTPStatusCode.Key(), semconv.HTTPRequestHeader.Key("x-tenant"))
	// Output: http.status_code http.request.header.x-tenant
}

// An enforcer in strict mode drops unknown keys, coerces lossless
// conversions and counts the violations on the span.
func ExampleNewEnforcer() {
	e := semconv.NewEnforcer(semconv.Default(), semconv.Strict, semconv.WithLogger(slog.New(slog.DiscardHandler)))
	defer e.Close()
	tr := tracer.New(tracer.WithTagPolicy(e), tracer.WithProcessor(printer{}))
	span := tr.StartSpan("GET /cart", ext.SpanKindRPCServer)
	span.SetTag("http.method", "GET")
	span.SetTag("http.status_code", "200") // coerced to 200
	span.SetTag("http.statuscode", 200)    // unknown: dropped
	span.Finish()
	fmt.Println(e.Stats().ByKind)
	// Output:
	// http.method=GET
	// http.status_code=200 (int64)
	// semconv.violations=2 (int)
	// map[unknown key:1 coerced:1]
}

type printer struct{}

func (printer) OnEnd(s *tracer.SpanData) {
	for _, a := range s.Attributes {
		if a.Key == tracer.SamplingProbabilityKey {
			continue
		}
		if _, ok := a.Value.(string); ok {
			fmt.Printf("%s=%v\n", a.Key, a.Value)
		} else {
			fmt.Printf("%s=%v (%T)\n", a.Key, a.Value, a.Value)
		}
	}
}
func (printer) ForceFlush(context.Context) error { return nil }
func (printer) Shutdown(context.Context) error   { return nil }

// The edge sets the critical operation and traffic source; every service
// downstream reads them from baggage.
func ExampleRouting() {
	tr := tracer.New(tracer.WithProcessor(discard{}))
	edge := tr.StartSpan("POST /checkout")
	semconv.Routing{CriticalOperation: "checkout", TrafficSource: semconv.TrafficSourceLoadTest}.Apply(edge)
	r := semconv.FromBaggage(edge)
	fmt.Println(r.CriticalOperation, r.IsLoadTest())
	edge.Finish()
	// Output: checkout true
}
