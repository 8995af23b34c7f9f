package oteltracer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/oteltracer"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

func setup(t *testing.T, opts ...tracer.Option) (*tracer.Tracer, *oteltracer.Provider, *tracetest.Recorder) {
	t.Helper()
	rec := tracetest.NewRecorder()
	tr := tracer.New(append([]tracer.Option{tracer.WithProcessor(rec)}, opts...)...)
	return tr, oteltracer.NewProvider(tr), rec
}

func find(t *testing.T, rec *tracetest.Recorder, name string) tracetest.Span {
	t.Helper()
	s, ok := rec.FindSpan(name)
	require.True(t, ok, "span %q recorded", name)
	return s
}

// The current span of a context is the same for both APIs, whichever
// started it, and a span of one API started from it is its child.
func TestContextBothWays(t *testing.T) {
	tr, p, rec := setup(t)
	otelTr := p.Tracer("test")

	// OpenTracing root, OpenTelemetry child, OpenTracing grandchild,
	// OpenTelemetry great-grandchild.
	root := tr.StartSpan("ot-root")
	ctx := opentracing.ContextWithSpan(context.Background(), root)
	require.Equal(t, [8]byte(root.Context().(*tracer.SpanContext).SpanID()), propagationID(trace.SpanFromContext(ctx)),
		"trace.SpanFromContext sees the OpenTracing span")

	ctx, otelChild := otelTr.Start(ctx, "otel-child")
	require.Same(t, otelChild.(any), trace.SpanFromContext(ctx).(any))
	otView := opentracing.SpanFromContext(ctx)
	require.NotNil(t, otView, "opentracing.SpanFromContext sees the OpenTelemetry span")
	require.Equal(t, [8]byte(otelChild.SpanContext().SpanID()), [8]byte(otView.Context().(*tracer.SpanContext).SpanID()))

	grand, ctx := opentracing.StartSpanFromContextWithTracer(ctx, tr, "ot-grandchild")
	_, great := otelTr.Start(ctx, "otel-great")
	great.End()
	grand.Finish()
	otelChild.End()
	root.Finish()

	r, c, g, gg := find(t, rec, "ot-root"), find(t, rec, "otel-child"), find(t, rec, "ot-grandchild"), find(t, rec, "otel-great")
	for _, s := range []tracetest.Span{c, g, gg} {
		require.Equal(t, r.TraceID, s.TraceID, s.Name)
	}
	require.Equal(t, "", r.ParentSpanID)
	require.Equal(t, r.SpanID, c.ParentSpanID)
	require.Equal(t, c.SpanID, g.ParentSpanID)
	require.Equal(t, g.SpanID, gg.ParentSpanID)
	require.Equal(t, "test", c.ScopeName)
	require.Empty(t, r.ScopeName, "an OpenTracing span has the exporter's scope")
	require.NotContains(t, c.Attributes, "otel.scope.name", "the scope is no attribute")
	require.Equal(t, uint64(4), tr.Stats().Finished, "one accounting for both APIs")
}

func propagationID(s trace.Span) [8]byte { return [8]byte(s.SpanContext().SpanID()) }

func TestSpanAPI(t *testing.T) {
	_, p, rec := setup(t)
	otelTr := p.Tracer("github.com/acme/db", trace.WithInstrumentationVersion("1.2.3"))
	ts, err := trace.ParseTraceState("vendor=x")
	require.NoError(t, err)
	linked := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{9, 9}, SpanID: trace.SpanID{8}, TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true,
	})
	start := time.Unix(1_700_000_000, 0)
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), parent)
	_, s := otelTr.Start(ctx, "query",
		trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start), trace.WithLinks(trace.Link{SpanContext: linked}),
		trace.WithAttributes(attribute.String("db.system", "postgresql")))
	require.True(t, s.IsRecording())
	require.Equal(t, "vendor=x", s.SpanContext().TraceState().String())
	require.Equal(t, parent.TraceID(), s.SpanContext().TraceID())
	s.SetAttributes(
		attribute.Bool("b", true), attribute.Int("i", 7), attribute.Int64("i64", 1<<40), attribute.Float64("f", 1.5),
		attribute.String("s", "x"), attribute.StringSlice("ss", []string{"a", "b"}), attribute.IntSlice("is", []int{1, 2}),
		attribute.BoolSlice("bs", []bool{true}), attribute.Float64Slice("fs", []float64{0.5}))
	s.AddEvent("retry", trace.WithAttributes(attribute.Int("attempt", 2), attribute.String("event", "ignored")))
	s.RecordError(errors.New("boom"))
	s.SetStatus(codes.Error, "failed")
	s.AddLink(trace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{4}})})
	s.SetName("SELECT orders")
	s.End(trace.WithTimestamp(start.Add(time.Second)))
	require.False(t, s.IsRecording(), "ended")
	s.SetAttributes(attribute.String("late", "x")) // ignored after End

	got := find(t, rec, "SELECT orders")
	require.Equal(t, tracer.KindClient, got.Kind)
	require.Equal(t, start.UnixNano(), got.Start.UnixNano())
	require.Equal(t, time.Second, got.End.Sub(got.Start))
	require.Equal(t, "09090000000000000000000000000000", got.TraceID)
	require.Equal(t, "0800000000000000", got.ParentSpanID)
	require.Equal(t, "vendor=x", got.TraceState)
	for k, v := range map[string]any{
		"db.system": "postgresql", "b": true, "i": int64(7), "i64": int64(1 << 40), "f": 1.5, "s": "x",
		"ss": []any{"a", "b"}, "is": []any{int64(1), int64(2)}, "bs": []any{true}, "fs": []any{0.5},
	} {
		require.Equal(t, v, got.Attributes[k], k)
	}
	require.Equal(t, "github.com/acme/db", got.ScopeName)
	require.Equal(t, "1.2.3", got.ScopeVersion)
	require.NotContains(t, got.Attributes, "late")
	require.Equal(t, tracetest.Status{Code: tracer.StatusError, Message: "failed"}, got.Status)
	require.Len(t, got.Events, 2)
	require.Equal(t, "retry", got.Events[0].Name)
	require.Equal(t, int64(2), got.Events[0].Attributes["attempt"])
	require.Equal(t, "exception", got.Events[1].Name)
	require.Equal(t, "boom", got.Events[1].Attributes["exception.message"])
	require.Equal(t, "*errors.errorString", got.Events[1].Attributes["exception.type"])
	require.Len(t, got.Links, 2)
	require.Equal(t, "01000000000000000000000000000000", got.Links[0].TraceID)
	require.Equal(t, "03000000000000000000000000000000", got.Links[1].TraceID)
}

func TestStatusRules(t *testing.T) {
	_, p, rec := setup(t)
	for _, tc := range []struct {
		name  string
		calls []codes.Code
		want  tracer.StatusCode
	}{
		{"unset changes nothing", []codes.Code{codes.Error, codes.Unset}, tracer.StatusError},
		{"ok is final", []codes.Code{codes.Ok, codes.Error}, tracer.StatusOK},
		{"error after unset", []codes.Code{codes.Unset, codes.Error}, tracer.StatusError},
	} {
		_, s := p.Tracer("t").Start(context.Background(), tc.name)
		for _, c := range tc.calls {
			s.SetStatus(c, "m")
		}
		s.End()
		require.Equal(t, tc.want, find(t, rec, tc.name).Status.Code, tc.name)
	}
}

// The flow id and the routed baggage reach OpenTelemetry spans as they
// reach OpenTracing spans, and OpenTelemetry's baggage and propagators see
// them.
func TestFlowIDThroughOTel(t *testing.T) {
	tr, p, rec := setup(t)
	prop := p.Propagator()
	in := otelprop.MapCarrier{
		"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"baggage":     "flow_id=req-42,critical_operation=checkout,traffic_source=user",
		"x-flow-id":   "req-42",
	}
	ctx := prop.Extract(context.Background(), in)
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", trace.SpanContextFromContext(ctx).TraceID().String())
	require.True(t, trace.SpanContextFromContext(ctx).IsRemote())

	ctx, s := p.Tracer("lib").Start(ctx, "otel-op")
	bg := baggage.FromContext(ctx)
	require.Equal(t, "req-42", bg.Member("flow_id").Value())
	require.Equal(t, "checkout", bg.Member("critical_operation").Value())

	out := otelprop.MapCarrier{}
	prop.Inject(ctx, out)
	require.Contains(t, out["traceparent"], "0af7651916cd43dd8448eb211c80319c")
	require.Contains(t, out["traceparent"], s.SpanContext().SpanID().String())
	require.Contains(t, out["baggage"], "flow_id=req-42")
	require.ElementsMatch(t, tr.Propagator().Fields(), prop.Fields())

	ot, _ := opentracing.StartSpanFromContextWithTracer(ctx, tr, "ot-op")
	ot.Finish()
	s.End()
	for _, name := range []string{"otel-op", "ot-op"} {
		got := find(t, rec, name)
		require.Equal(t, "req-42", got.Attributes["flow_id"], name)
		require.Equal(t, "checkout", got.Attributes["critical_operation"], name)
		require.Equal(t, "user", got.Attributes["traffic_source"], name)
	}
	require.Equal(t, find(t, rec, "otel-op").SpanID, find(t, rec, "ot-op").ParentSpanID)

	// A routed value the conventions refuse is dropped, as for Extract.
	bad := prop.Extract(context.Background(), otelprop.MapCarrier{"baggage": "critical_operation=" + strings.Repeat("a", 200)})
	_, s2 := p.Tracer("lib").Start(bad, "bad")
	s2.End()
	require.NotContains(t, find(t, rec, "bad").Attributes, "critical_operation")
	require.Equal(t, uint64(1), tr.Stats().BaggageDropped)
}

// Unsampled spans go through the same sampler and record nothing.
func TestUnsampled(t *testing.T) {
	tr, p, rec := setup(t, tracer.WithSampler(tracer.AlwaysOff()))
	ctx, s := p.Tracer("t").Start(context.Background(), "dropped")
	require.False(t, s.IsRecording())
	require.True(t, s.SpanContext().IsValid(), "an unsampled span still has a context to propagate")
	require.False(t, s.SpanContext().IsSampled())
	s.SetAttributes(attribute.String("k", "v"))
	s.AddEvent("e")
	s.RecordError(errors.New("x"))
	s.SetStatus(codes.Error, "x")
	s.End()
	out := otelprop.MapCarrier{}
	p.Propagator().Inject(ctx, out)
	require.True(t, strings.HasSuffix(out["traceparent"], "-02"), "random, not sampled: %s", out["traceparent"])
	require.Equal(t, 0, rec.Len())
	require.Equal(t, tracer.Stats{Started: 1}, tr.Stats())
}

func TestNewRootKeepsBaggage(t *testing.T) {
	_, p, rec := setup(t)
	ctx := p.Propagator().Extract(context.Background(), otelprop.MapCarrier{
		"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"baggage":     "flow_id=req-7",
	})
	_, s := p.Tracer("t").Start(ctx, "root", trace.WithNewRoot())
	s.End()
	got := find(t, rec, "root")
	require.Equal(t, "", got.ParentSpanID)
	require.NotEqual(t, "0af7651916cd43dd8448eb211c80319c", got.TraceID)
	require.Equal(t, "req-7", got.Attributes["flow_id"])
}
