package source

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/internal/jaegertest"
	"github.com/flowtrace/flowtrace/tracer"
)

func TestRealJaeger(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Jaeger process")
	}
	jg := jaegertest.Start(t)
	otlpAddr, queryAddr := jg.OTLPGRPC, jg.Query

	newTracer := func(service string) *tracer.Tracer {
		client, err := export.NewOTLPClient(export.OTLPSettings{Endpoint: "http://" + otlpAddr, Timeout: 5 * time.Second})
		require.NoError(t, err)
		b := export.NewBatcher(export.NewOTLP(client, []tracer.Attribute{{Key: "service.name", Value: service}}),
			export.WithScheduleDelay(50*time.Millisecond))
		tr := tracer.New(tracer.WithProcessor(b))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = tr.Shutdown(ctx)
		})
		return tr
	}
	edge, catalog := newTracer("jaeger-edge"), newTracer("jaeger-catalog")
	root := edge.StartSpan("GET /browse", ext.SpanKindRPCServer)
	client := edge.StartSpan("GET", opentracing.ChildOf(root.Context()), ext.SpanKindRPCClient)
	server := catalog.StartSpan("GET /products", opentracing.ChildOf(client.Context()), ext.SpanKindRPCServer)
	server.SetTag("http.status_code", 500)
	ext.Error.Set(server, true)
	server.Finish()
	client.Finish()
	root.Finish()
	for _, tr := range []*tracer.Tracer{edge, catalog} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, tr.ForceFlush(ctx))
		cancel()
	}
	traceID := root.Context().(*tracer.SpanContext).TraceID().String()

	j, err := NewJaeger("http://"+queryAddr, WithTimeout(5*time.Second))
	require.NoError(t, err)
	var spans []*trace.Span
	require.Eventually(t, func() bool {
		spans = nil
		for _, svc := range []string{"jaeger-edge", "jaeger-catalog"} {
			got, err := j.Traces(context.Background(), Query{Service: svc, Limit: 10, Lookback: time.Hour})
			// Both services' queries return the trace: merged once.
			if err != nil {
				return false
			}
			spans = append(spans, got...)
		}
		return len(trace.Assemble(spans)) == 1 && len(trace.Assemble(spans)[0].Spans) == 3
	}, 20*time.Second, 200*time.Millisecond, "the trace never showed up in Jaeger's query API")

	tr := trace.Assemble(spans)[0]
	require.Equal(t, traceID, tr.ID)
	byName := map[string]*trace.Span{}
	for _, s := range tr.Spans {
		byName[s.Name] = s
	}
	require.Equal(t, "jaeger-edge", byName["GET /browse"].Service)
	require.Equal(t, "jaeger-catalog", byName["GET /products"].Service)
	require.Equal(t, byName["GET"].SpanID, byName["GET /products"].ParentID, "parentage survives the round trip through Jaeger")
	require.Equal(t, byName["GET /browse"].SpanID, byName["GET"].ParentID)
	require.Equal(t, trace.KindServer, byName["GET /products"].Kind)
	require.Equal(t, trace.KindClient, byName["GET"].Kind)
	require.True(t, byName["GET /products"].Error)
	require.False(t, byName["GET /browse"].Error)
}

// Issue 16 item 1 against the real thing: four days of traces
// (analysis/slo/testdata/burn.jsonl: 196 single-span traces of service
// edge, one an hour for four days and 100 in the last five minutes) stored
// in Jaeger and read back by start and end with a limit of 25 per request.
// 030e853 sent lookback (ignored by Jaeger's API, which then searched its
// default window) and one request: at most 25 traces, silently.
func TestRealJaegerPaging(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Jaeger process")
	}
	jg := jaegertest.Start(t)
	jg.PostFile(t, filepath.Join("..", "slo", "testdata", "burn.jsonl"))
	j, err := NewJaeger("http://"+jg.Query, WithTimeout(5*time.Second))
	require.NoError(t, err)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := Query{Service: "edge", Start: t0, End: t0.Add(100 * time.Hour), Limit: 25}
	var r *Result
	jaegertest.Wait(t, "traces", func() (int, error) {
		var err error
		r, err = j.Search(context.Background(), q)
		if err != nil {
			return 0, err
		}
		return r.Traces, nil
	}, 196)
	require.False(t, r.Partial, r.Reason)
	require.Len(t, r.Spans, 196)
	require.Greater(t, r.Requests, 196/25, "paged")
	ids := map[string]bool{}
	for _, s := range r.Spans {
		require.False(t, ids[s.TraceID], "trace %s twice", s.TraceID)
		ids[s.TraceID] = true
	}

	// The same search with no service: every service of Jaeger, the same
	// traces once each.
	q.Service = ""
	all, err := j.Search(context.Background(), q)
	require.NoError(t, err)
	require.Equal(t, 196, all.Traces)
	require.False(t, all.Partial)

	// A cap below the data: partial, and the newest part is what is kept.
	q.Service, q.MaxTraces = "edge", 120
	capped, err := j.Search(context.Background(), q)
	require.NoError(t, err)
	require.True(t, capped.Partial)
	require.Contains(t, capped.Reason, "trace cap")
	require.Equal(t, 120, capped.Traces)
	require.Less(t, capped.Traces, 196)
	newest := t0.Add(100 * time.Hour)
	burst := 0
	for _, s := range capped.Spans {
		if s.End.After(newest.Add(-5 * time.Minute)) {
			burst++
		}
	}
	require.Equal(t, 100, burst, "the newest traces (the last five minutes' 100) are kept first")
	_, err = j.Traces(context.Background(), q)
	require.ErrorIs(t, err, ErrPartial)
}
