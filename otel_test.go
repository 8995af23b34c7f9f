package flowtrace

import (
	"context"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/flowtrace/flowtrace/config"
)

// Start installs the OpenTelemetry globals unless WithoutGlobalTracer
// says not to.
func TestStartOpenTelemetryGlobals(t *testing.T) {
	savedTP, savedProp, savedOT := otel.GetTracerProvider(), otel.GetTextMapPropagator(), opentracing.GlobalTracer()
	t.Cleanup(func() {
		otel.SetTracerProvider(savedTP)
		otel.SetTextMapPropagator(savedProp)
		opentracing.SetGlobalTracer(savedOT)
	})
	for _, tc := range []struct {
		name   string
		global bool
		off    Option
	}{
		{"globals", true, nil},
		{"without globals", false, WithoutGlobalTracer()},
		//lint:ignore SA1019 the deprecated option must keep working
		{"deprecated config option", false, config.WithoutGlobalTracer()},
	} {
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(otelprop.NewCompositeTextMapPropagator())
		opts := []config.Option{
			config.WithEnv(func(string) (string, bool) { return "", false }),
			config.WithExporter(config.ExporterNone),
			config.WithPropagators("tracecontext", "baggage", "b3"),
		}
		if !tc.global {
			opts = append(opts, tc.off)
		}
		tracing := Start(context.Background(), opts...)
		if tc.global {
			require.Same(t, tracing.TracerProvider(), otel.GetTracerProvider(), tc.name)
			require.ElementsMatch(t, tracing.Tracer().Propagator().Fields(), otel.GetTextMapPropagator().Fields(), tc.name)
			require.Contains(t, otel.GetTextMapPropagator().Fields(), "b3")
		} else {
			require.IsType(t, noop.TracerProvider{}, otel.GetTracerProvider(), tc.name)
			require.Empty(t, otel.GetTextMapPropagator().Fields(), tc.name)
		}
		require.NotNil(t, tracing.TracerProvider(), "the provider is there either way")
		require.NoError(t, shutdown(t, tracing, 5*time.Second))
	}
}

// Spans of both APIs go through one pipeline into a real OTLP receiver:
// one resource, one trace, the scope of the OpenTelemetry tracer.
func TestOpenTelemetrySpansExported(t *testing.T) {
	r := newReceiver(t)
	tracing := Start(context.Background(), isolated(nil, config.WithEndpoint(r.GRPCEndpoint()),
		config.WithServiceName("mixed"), config.WithInsecure())...)
	lib := tracing.TracerProvider().Tracer("github.com/acme/db", trace.WithInstrumentationVersion("1.0.0"))

	root := tracing.Tracer().StartSpan("handler")
	ctx := opentracing.ContextWithSpan(context.Background(), root)
	_, q := lib.Start(ctx, "SELECT", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attribute.String("db.system", "postgresql")))
	q.End()
	root.Finish()
	require.NoError(t, shutdown(t, tracing, 5*time.Second))

	spans := r.Spans()
	require.Len(t, spans, 2)
	byName := map[string]int{}
	for i, s := range spans {
		byName[s.Name] = i
		require.Equal(t, "mixed", s.Resource["service.name"])
	}
	h, s := spans[byName["handler"]], spans[byName["SELECT"]]
	require.Equal(t, h.TraceID, s.TraceID)
	require.Equal(t, h.SpanID, s.ParentSpanID)
	require.Equal(t, "postgresql", s.Attributes["db.system"])
	require.Equal(t, "github.com/acme/db", s.ScopeName, "the OpenTelemetry tracer's scope is the span's OTLP scope")
	require.Equal(t, "1.0.0", s.ScopeVersion)
	require.NotContains(t, s.Attributes, "otel.scope.name")
	require.Equal(t, "github.com/flowtrace/flowtrace", h.ScopeName, "OpenTracing spans keep flowtrace's scope")
	st := tracing.Stats()
	require.Equal(t, uint64(2), st.Tracer.Finished)
	require.Equal(t, int64(2), st.Export.Exported)
}
