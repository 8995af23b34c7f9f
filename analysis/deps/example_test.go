package deps_test

import (
	"os"
	"time"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func ExampleGraph_Mermaid() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	http := map[string]any{"http.method": "GET"}
	traces := trace.Assemble([]*trace.Span{
		{TraceID: "t", SpanID: "1", Service: "edge", Name: "GET", Kind: trace.KindClient, Start: t0, End: t0.Add(30 * time.Millisecond), Attributes: http},
		{TraceID: "t", SpanID: "2", ParentID: "1", Service: "catalog", Name: "GET /items", Kind: trace.KindServer, Start: t0, End: t0.Add(25 * time.Millisecond), Attributes: http},
	})
	deps.Build(traces).Mermaid(os.Stdout)
	// Output:
	// flowchart LR
	//     svc_catalog["catalog"]
	//     svc_edge["edge"]
	//     svc_edge -->|"http 1 calls, 0.0% err, p50 30ms, p99 30ms"| svc_catalog
}
