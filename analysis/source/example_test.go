package source_test

import (
	"fmt"
	"strings"

	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func ExampleRead() {
	line := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"edge"}}]},` +
		`"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",` +
		`"name":"GET /","kind":2,"startTimeUnixNano":"1000000","endTimeUnixNano":"21000000","status":{"code":2}}]}]}]}`
	spans, err := source.Read(strings.NewReader(line+"\n"), "example.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := trace.Assemble(spans)[0]
	fmt.Println(tr.Root().Service, tr.Root().Name, tr.Root().Kind, tr.Root().Duration(), tr.Root().Error)
	// Output: edge GET / server 20ms true
}
