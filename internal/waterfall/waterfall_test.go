package waterfall

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

func TestWrite(t *testing.T) {
	t0 := time.Unix(100, 0)
	res := map[string]any{"service.name": "shop"}
	spans := []tracetest.Span{
		{TraceID: "t1", SpanID: "c", ParentSpanID: "a", Name: "pay", Start: t0.Add(50 * time.Millisecond), End: t0.Add(100 * time.Millisecond),
			Resource: res, Status: tracetest.Status{Code: tracer.StatusError, Message: "card declined"}},
		{TraceID: "t1", SpanID: "a", Name: "checkout", Start: t0, End: t0.Add(100 * time.Millisecond), Resource: res,
			Attributes: map[string]any{"http.status_code": int64(502)}},
		{TraceID: "t1", SpanID: "b", ParentSpanID: "a", Name: "stock", Start: t0, End: t0.Add(50 * time.Millisecond), Resource: res},
		{TraceID: "t0", SpanID: "x", ParentSpanID: "missing", Name: "orphan", Start: t0.Add(-time.Second), End: t0, Resource: res},
	}
	var b strings.Builder
	require.NoError(t, Write(&b, spans, Options{Width: 10}))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Contains(t, lines[0], "trace t0", "traces are drawn oldest first")
	require.Contains(t, lines[1], "shop orphan", "a span whose parent is missing is drawn as a root")
	require.Contains(t, lines[3], "trace t1  (3 spans, 100ms)")
	require.Contains(t, lines[4], "shop checkout")
	require.Contains(t, lines[4], "|██████████|")
	require.Contains(t, lines[4], "http.status_code=502")
	require.Contains(t, lines[5], "    shop stock", "children are indented and ordered by start")
	require.Contains(t, lines[5], "|█████     |")
	require.Contains(t, lines[6], "✗ shop pay")
	require.Contains(t, lines[6], `error="card declined"`)
	require.Contains(t, lines[6], "|     █████|")
}
