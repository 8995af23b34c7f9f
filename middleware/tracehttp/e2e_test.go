package tracehttp_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// newOTLPTracer builds a flowtrace tracer that exports over real OTLP/gRPC
// to an in-process receiver on 127.0.0.1, and cleans both up with the test.
func newOTLPTracer(t *testing.T) (*tracer.Tracer, *tracetest.Receiver) {
	t.Helper()
	rcv, err := tracetest.NewReceiver()
	require.NoError(t, err)
	client, err := export.NewOTLPGRPC(export.OTLPSettings{Endpoint: rcv.GRPCEndpoint()})
	require.NoError(t, err)
	b := export.NewBatcher(export.NewOTLP(client, []tracer.Attribute{{Key: "service.name", Value: "tracehttp-test"}}))
	tr := tracer.New(tracer.WithProcessor(b), tracer.WithPropagator(propagation.Default()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, tr.Shutdown(ctx))
		require.NoError(t, rcv.Close())
	})
	return tr, rcv
}

// TestEndToEndOTLP sends a request through a traced client and server and
// checks what arrives over the wire at the OTLP receiver.
func TestEndToEndOTLP(t *testing.T) {
	t.Parallel()
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			tr, rcv := newOTLPTracer(t)
			ps := startProto(t, proto, tracehttp.NewHandler(newMux(), tracehttp.WithTracer(tr)))
			client := tracehttp.WrapClient(ps.client, tracehttp.WithTracer(tr))

			parent := tr.StartSpan("checkout")
			ctx := opentracing.ContextWithSpan(context.Background(), parent)
			ctx = flowid.ContextWith(ctx, "e2e-flow")
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ps.url+"/users/9?token=SECRET", nil)
			req.Header.Set("Authorization", "Bearer SECRET")
			resp, err := client.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			parent.Finish()

			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, tr.ForceFlush(fctx))
			spans, err := rcv.WaitForSpans(fctx, 3)
			require.NoError(t, err)
			require.Len(t, spans, 3)

			byName := map[string]tracetest.Span{}
			for _, s := range spans {
				byName[s.Name] = s
				for k, v := range s.Attributes {
					require.NotContains(t, k, "SECRET")
					if str, ok := v.(string); ok {
						require.NotContains(t, str, "SECRET", "%s.%s", s.Name, k)
					}
				}
			}
			root, cs, ss := byName["checkout"], byName["GET"], byName["GET /users/{id}"]
			require.Equal(t, tracer.KindClient, cs.Kind)
			require.Equal(t, tracer.KindServer, ss.Kind)
			require.Equal(t, root.TraceID, cs.TraceID)
			require.Equal(t, root.TraceID, ss.TraceID)
			require.Equal(t, root.SpanID, cs.ParentSpanID)
			require.Equal(t, cs.SpanID, ss.ParentSpanID)
			require.Equal(t, "e2e-flow", ss.Attributes["flow_id"])
			require.Equal(t, "e2e-flow", cs.Attributes["flow_id"])
			require.Equal(t, "/users/{id}", ss.Attributes["http.route"])
			require.Equal(t, "/users/9", ss.Attributes["http.url"])
			require.EqualValues(t, 200, ss.Attributes["http.status_code"])
			require.Equal(t, ps.url+"/users/9", cs.Attributes["http.url"])
		})
	}
}
