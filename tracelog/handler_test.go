package tracelog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracelog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeSpanContext is what flowtrace's tracer's span contexts look like to
// tracelog.
type fakeSpanContext struct{ sc propagation.SpanContext }

func (f fakeSpanContext) ForeachBaggageItem(func(k, v string) bool) {}

func (f fakeSpanContext) PropagationContext() propagation.SpanContext { return f.sc }

// fakeSpan is a no-op span with a fakeSpanContext and baggage.
type fakeSpan struct {
	opentracing.Span
	ctx     fakeSpanContext
	baggage map[string]string
}

func (s *fakeSpan) Context() opentracing.SpanContext { return s.ctx }
func (s *fakeSpan) BaggageItem(k string) string      { return s.baggage[k] }

func spanContext() context.Context {
	sp := &fakeSpan{
		Span:    opentracing.NoopTracer{}.StartSpan("op"),
		ctx:     fakeSpanContext{propagation.SpanContext{TraceID: propagation.TraceID{0xaa, 1}, SpanID: propagation.SpanID{0xbb, 2}, Flags: 1}},
		baggage: map[string]string{flowid.BaggageKey: "flow-from-span"},
	}
	return opentracing.ContextWithSpan(context.Background(), sp)
}

const (
	wantTrace = "aa010000000000000000000000000000"
	wantSpan  = "bb02000000000000"
)

func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return tracelog.NewHandler(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		return m
	})
}

func TestTopLevelIDs(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *slog.Logger, ctx context.Context)
		rest map[string]any // expected attributes besides the standard and id keys
	}{
		{"plain", func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "a", 1) },
			map[string]any{"a": float64(1)}},
		{"WithAttrs", func(l *slog.Logger, ctx context.Context) { l.With("x", "y").InfoContext(ctx, "m", "a", 1) },
			map[string]any{"x": "y", "a": float64(1)}},
		{"WithGroup", func(l *slog.Logger, ctx context.Context) { l.WithGroup("g").InfoContext(ctx, "m", "a", 1) },
			map[string]any{"g": map[string]any{"a": float64(1)}}},
		{"WithGroup then WithAttrs", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").With("x", "y").InfoContext(ctx, "m", "a", 1)
		}, map[string]any{"g": map[string]any{"x": "y", "a": float64(1)}}},
		{"nested groups", func(l *slog.Logger, ctx context.Context) {
			l.With("top", 1).WithGroup("g").With("x", "y").WithGroup("h").InfoContext(ctx, "m", "a", 1)
		}, map[string]any{"top": float64(1), "g": map[string]any{"x": "y", "h": map[string]any{"a": float64(1)}}}},
		{"empty group dropped", func(l *slog.Logger, ctx context.Context) { l.WithGroup("g").InfoContext(ctx, "m") },
			map[string]any{}},
		{"group attr in record", func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").InfoContext(ctx, "m", slog.Group("r", "a", 1))
		}, map[string]any{"g": map[string]any{"r": map[string]any{"a": float64(1)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(tracelog.NewHandler(slog.NewJSONHandler(&buf, nil)))
			tt.log(l, spanContext())
			var m map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
			require.Equal(t, wantTrace, m["trace_id"])
			require.Equal(t, wantSpan, m["span_id"])
			require.Equal(t, "flow-from-span", m["flow_id"])
			for _, k := range []string{"time", "level", "msg", "trace_id", "span_id", "flow_id"} {
				delete(m, k)
			}
			require.Equal(t, tt.rest, m)
		})
	}
}

func TestFlowIDOnly(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(tracelog.NewHandler(slog.NewJSONHandler(&buf, nil)))
	l.WithGroup("g").InfoContext(flowid.ContextWith(context.Background(), "f1"), "m")
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	require.Equal(t, "f1", m["flow_id"])
	require.NotContains(t, m, "trace_id")
	require.NotContains(t, m, "span_id")

	// A span context from another tracer: no ids.
	buf.Reset()
	sp := opentracing.NoopTracer{}.StartSpan("x")
	l.InfoContext(opentracing.ContextWithSpan(context.Background(), sp), "m")
	m = nil
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	require.NotContains(t, m, "trace_id")
	require.NotContains(t, m, "flow_id")
}

func BenchmarkHandler(b *testing.B) {
	ctx := spanContext()
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"baseline", slog.NewJSONHandler(discard{}, nil)},
		{"tracelog", tracelog.NewHandler(slog.NewJSONHandler(discard{}, nil))},
		{"tracelog group", tracelog.NewHandler(slog.NewJSONHandler(discard{}, nil)).WithGroup("g")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			l := slog.New(bc.h)
			for b.Loop() {
				l.InfoContext(ctx, "hello", "a", 1)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
