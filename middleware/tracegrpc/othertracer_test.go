package tracegrpc_test

import (
	"context"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// With a tracer other than flowtrace's, the middleware carries x-flow-id
// itself.
func TestOtherTracerFlowID(t *testing.T) {
	t.Parallel()
	mt := mocktracer.New()
	e := startEnv(t,
		tracegrpc.ServerOptions(tracegrpc.WithTracer(mt)),
		tracegrpc.DialOptions(tracegrpc.WithTracer(mt)))
	ctx := flowid.ContextWith(context.Background(), "mock-flow")
	parent := mt.StartSpan("parent")
	ctx = opentracing.ContextWithSpan(ctx, parent)
	var hdr metadata.MD
	_, err := e.unary(ctx, "x", grpc.Header(&hdr))
	require.NoError(t, err)
	parent.Finish()
	assert.Equal(t, []string{"mock-flow"}, hdr.Get("x-flow-id"))
	assert.Equal(t, "mock-flow", e.echo.last().FlowID)

	require.Eventually(t, func() bool { return len(mt.FinishedSpans()) == 3 }, 5e9, 1e6)
	var client, server *mocktracer.MockSpan
	for _, s := range mt.FinishedSpans() {
		switch s.Tag("span.kind") {
		case ext.SpanKindRPCClientEnum:
			client = s
		case ext.SpanKindRPCServerEnum:
			server = s
		}
	}
	require.NotNil(t, client)
	require.NotNil(t, server)
	assert.Equal(t, client.SpanContext.SpanID, server.ParentID)
	assert.Equal(t, "mock-flow", server.Tag(flowid.BaggageKey))
	assert.Equal(t, "test.Echo/Unary", server.OperationName)
}

// The global no-op tracer still carries the flow id.
func TestNoopTracerFlowID(t *testing.T) {
	t.Parallel()
	e := startEnv(t, tracegrpc.ServerOptions(), tracegrpc.DialOptions())
	ctx := flowid.ContextWith(context.Background(), "noop-flow")
	var hdr metadata.MD
	_, err := e.unary(ctx, "x", grpc.Header(&hdr))
	require.NoError(t, err)
	assert.Equal(t, []string{"noop-flow"}, hdr.Get("x-flow-id"))
	assert.Equal(t, "noop-flow", e.echo.last().FlowID)
}

// A server and client started and stopped, with streams cancelled midway,
// leave no goroutine behind.
func TestNoGoroutinesLeft(t *testing.T) {
	t.Run("env", func(t *testing.T) {
		e, _, _ := tracedEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cs, err := e.conn.NewStream(ctx, chatDesc, mChat)
		require.NoError(t, err)
		require.NoError(t, cs.SendMsg(wrapString("1")))
		cancel()
		_, err = e.unary(context.Background(), "x")
		require.NoError(t, err)
	})
	goleak.VerifyNone(t)
}
