package oteltracer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/flowtrace/flowtrace/tracer"
)

type ctxKey struct{}

// Start finds the parent in the context Start returned and in any context
// wrapped around it, for a span of either API, and a root only in the
// contexts that hold no value (Background and TODO, answered without
// asking them) or nothing of either API.
func TestParentThroughWrappedContexts(t *testing.T) {
	tr, p, rec := setup(t)
	otelTr := p.Tracer("wrap")
	wraps := map[string]func(context.Context) context.Context{
		"as is": func(c context.Context) context.Context { return c },
		"value": func(c context.Context) context.Context { return context.WithValue(c, ctxKey{}, 1) },
		"cancel": func(c context.Context) context.Context {
			c, cancel := context.WithCancel(c)
			t.Cleanup(cancel)
			return c
		},
		"no cancel": context.WithoutCancel,
		"two values": func(c context.Context) context.Context {
			return context.WithValue(context.WithValue(c, ctxKey{}, 1), ctxKey{}, 2)
		},
	}
	for name, wrap := range wraps {
		parentCtx, parent := otelTr.Start(context.Background(), "otel-parent "+name)
		_, child := otelTr.Start(wrap(parentCtx), "child of otel "+name)
		child.End()
		parent.End()
		ot := tr.StartSpan("ot-parent " + name)
		_, child2 := otelTr.Start(wrap(opentracing.ContextWithSpan(context.Background(), ot)), "child of ot "+name)
		child2.End()
		ot.Finish()
		require.Equal(t, find(t, rec, "otel-parent "+name).SpanID, find(t, rec, "child of otel "+name).ParentSpanID, name)
		require.Equal(t, find(t, rec, "ot-parent "+name).SpanID, find(t, rec, "child of ot "+name).ParentSpanID, name)
	}
	m, err := baggage.NewMember("flow_id", "req-9")
	require.NoError(t, err)
	b, err := baggage.New(m)
	require.NoError(t, err)
	for name, ctx := range map[string]context.Context{
		"background": context.Background(), "todo": context.TODO(),
		"nil": nil, "value": context.WithValue(context.Background(), ctxKey{}, 1),
	} {
		_, s := otelTr.Start(ctx, "root "+name)
		s.End()
		require.Empty(t, find(t, rec, "root "+name).ParentSpanID, name)
	}
	_, s := otelTr.Start(baggage.ContextWithBaggage(context.Background(), b), "baggage only")
	s.End()
	got := find(t, rec, "baggage only")
	require.Empty(t, got.ParentSpanID)
	require.Equal(t, "req-9", got.Attributes["flow_id"], "the flow id set through OpenTelemetry's baggage")
}

// Attribute values keep their types through the conversion and the
// tracer's one-pass setter, within its limits, and a later value of a key
// replaces the earlier one, in one call or across calls.
func TestAttributeTypesAndLimits(t *testing.T) {
	_, p, rec := setup(t, tracer.WithLimits(tracer.Limits{
		AttributeCount: 8, AttributeValueLength: 5, EventCount: 1, LinkCount: 1, NameLength: 20,
	}))
	_, s := p.Tracer("types").Start(context.Background(), "span",
		trace.WithAttributes(attribute.Int("small", 7), attribute.Int("big", 1<<20), attribute.Int("neg", -3)))
	s.SetAttributes(
		attribute.Bool("yes", true), attribute.Float64("f", 2.5), attribute.String("s", "abcdefgh"),
		attribute.StringSlice("ss", []string{"abcdefgh", "x"}), attribute.Int64Slice("is", []int64{1}),
		attribute.String(strings.Repeat("k", 21), "key too long"), attribute.String("small", "now a string"),
		attribute.KeyValue{Key: "invalid"}, attribute.String("", "no key"),
	)
	s.SetAttributes(attribute.Int("f", 255), attribute.Int("over", 1), attribute.Int("over2", 2), attribute.Int("neg", 256))
	s.End()
	got := find(t, rec, "span")
	require.Equal(t, map[string]any{
		"sampling.probability": 1.0,
		"small":                "now a", // cut at 5 bytes
		"big":                  int64(1 << 20),
		"neg":                  int64(256),
		"yes":                  true,
		"f":                    int64(255),
		"s":                    "abcde",
		"ss":                   []any{"abcde", "x"},
		"is":                   []any{int64(1)},
	}, got.Attributes)
}
