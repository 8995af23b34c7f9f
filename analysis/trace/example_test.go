package trace_test

import (
	"fmt"
	"time"

	"github.com/flowtrace/flowtrace/analysis/trace"
)

func Example() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	sampled := map[string]any{"sampling.probability": 0.5}
	traces := trace.Assemble([]*trace.Span{
		{TraceID: "t", SpanID: "1", Service: "edge", Name: "GET /", Kind: trace.KindServer, Start: ms(0), End: ms(50), Attributes: sampled},
		{TraceID: "t", SpanID: "2", ParentID: "1", Service: "catalog", Name: "GET /items", Kind: trace.KindServer, Start: ms(10), End: ms(40)},
	})
	t := traces[0]
	root := t.Root()
	fmt.Println(root.Service, t.SelfTime(root), len(t.Children(root)), t.Weight())
	// Output: edge 20ms 1 2
}
