package estimate_test

import (
	"fmt"
	"time"

	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func ExampleCompute() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	op := map[string]any{"critical_operation": "checkout"}
	var spans []*trace.Span
	// One checkout trace: the edge calls catalog twice.
	spans = append(spans,
		&trace.Span{TraceID: "t", SpanID: "1", Service: "edge", Name: "POST /checkout", Kind: trace.KindServer, Start: t0, End: t0, Attributes: op},
		&trace.Span{TraceID: "t", SpanID: "2", ParentID: "1", Service: "catalog", Name: "GET /price", Kind: trace.KindServer, Start: t0, End: t0, Attributes: op},
		&trace.Span{TraceID: "t", SpanID: "3", ParentID: "1", Service: "catalog", Name: "GET /price", Kind: trace.KindServer, Start: t0, End: t0, Attributes: op},
	)
	fc, _ := estimate.ParseForecast("checkout=1200/s")
	for _, l := range estimate.Compute(trace.Assemble(spans), fc).Services {
		fmt.Printf("%s %s: %.0f/s\n", l.Service, l.Operation, l.PerSecond)
	}
	// Output:
	// catalog GET /price: 2400/s
	// edge POST /checkout: 1200/s
}
