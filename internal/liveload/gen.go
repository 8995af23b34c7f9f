// Package liveload generates the synthetic live traffic the memory
// figures of docs/performance.md ("Live analysis") are measured with:
// traces of three services (gateway → api → a PostgreSQL peer) whose api
// operation names cycle through a given number of distinct names, so the
// series limits are exercised. Run from scripts/live-memory.sh (against
// flowtrace serve) and by collector BenchmarkConnectorMemory.
package liveload

import (
	"encoding/binary"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Batch returns traces first..first+n-1 as one OTLP batch; operation
// names cycle through ops distinct names, and trace i ends at now.
func Batch(first, n, ops int, now time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	gw := resource(td, "gateway")
	api := resource(td, "api")
	for i := first; i < first+n; i++ {
		var tid pcommon.TraceID
		binary.BigEndian.PutUint64(tid[8:], uint64(i)+1)
		binary.BigEndian.PutUint64(tid[:8], 0x5eed)
		op := "GET /item/" + strconv.Itoa(i%max(ops, 1))
		start := now.Add(-20 * time.Millisecond)
		root := span(gw, tid, 1, 0, "GET /gateway", ptrace.SpanKindServer, start, now)
		root.Attributes().PutStr("http.request.method", "GET")
		cl := span(gw, tid, 2, 1, "GET", ptrace.SpanKindClient, start.Add(time.Millisecond), now.Add(-time.Millisecond))
		cl.Attributes().PutStr("http.request.method", "GET")
		srv := span(api, tid, 3, 2, op, ptrace.SpanKindServer, start.Add(2*time.Millisecond), now.Add(-2*time.Millisecond))
		srv.Attributes().PutStr("http.request.method", "GET")
		if i%50 == 0 {
			srv.Status().SetCode(ptrace.StatusCodeError)
		}
		db := span(api, tid, 4, 3, "SELECT items", ptrace.SpanKindClient, start.Add(3*time.Millisecond), now.Add(-5*time.Millisecond))
		db.Attributes().PutStr("db.system.name", "postgresql")
		db.Attributes().PutStr("db.namespace", "items")
	}
	return td
}

func resource(td ptrace.Traces, service string) ptrace.SpanSlice {
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	return rs.ScopeSpans().AppendEmpty().Spans()
}

func span(ss ptrace.SpanSlice, tid pcommon.TraceID, id, parent uint64, name string, kind ptrace.SpanKind, start, end time.Time) ptrace.Span {
	s := ss.AppendEmpty()
	s.SetTraceID(tid)
	var sid pcommon.SpanID
	binary.BigEndian.PutUint64(sid[:], id)
	s.SetSpanID(sid)
	if parent != 0 {
		var pid pcommon.SpanID
		binary.BigEndian.PutUint64(pid[:], parent)
		s.SetParentSpanID(pid)
	}
	s.SetName(name)
	s.SetKind(kind)
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	return s
}
