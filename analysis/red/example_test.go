package red_test

import (
	"fmt"
	"time"

	"github.com/flowtrace/flowtrace/analysis/red"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func ExampleCompute() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var spans []*trace.Span
	for i := range 10 {
		start := t0.Add(time.Duration(i) * time.Second)
		spans = append(spans, &trace.Span{TraceID: fmt.Sprint(i), SpanID: "1", Service: "edge", Name: "GET /", Kind: trace.KindServer,
			Start: start, End: start.Add(time.Duration(10*(i+1)) * time.Millisecond), Error: i == 0})
	}
	row := red.Compute(trace.Assemble(spans)).Rows[0]
	fmt.Printf("%s %s: %.2f/s, %.0f%% errors, p50 %s, p99 %s\n", row.Service, row.Operation, row.Rate, 100*row.ErrorRatio, row.P50, row.P99)
	// Output: edge GET /: 1.10/s, 10% errors, p50 50ms, p99 100ms
}
