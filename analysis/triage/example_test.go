package triage_test

import (
	"fmt"
	"time"

	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/analysis/triage"
)

func ExampleFind() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tr := trace.Assemble([]*trace.Span{
		{TraceID: "t", SpanID: "1", Service: "edge", Name: "POST /checkout", Kind: trace.KindServer, Start: at(0), End: at(100), Error: true},
		{TraceID: "t", SpanID: "2", ParentID: "1", Service: "cart", Name: "Checkout", Kind: trace.KindServer, Start: at(5), End: at(95), Error: true},
		{TraceID: "t", SpanID: "3", ParentID: "2", Service: "catalog", Name: "GET /products/{id}", Kind: trace.KindServer, Start: at(10), End: at(20), Error: true,
			Resource: map[string]any{"team": "catalog-team"}},
	})[0]
	c := triage.Find(tr, tr.Root(), true)
	fmt.Println(c.Span.Service, c.Span.Team(), c.Kind)
	// Output: catalog catalog-team error
}
