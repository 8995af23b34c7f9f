package tracegrpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// newReceiverTracer returns a flowtrace tracer (with the default
// tracecontext, baggage and flowid formats) that exports over real
// OTLP/gRPC to an in-process receiver; flush writes what it holds.
func newReceiverTracer(t testing.TB) (tr *tracer.Tracer, rcv *tracetest.Receiver, flush func(n int) []tracetest.Span) {
	t.Helper()
	rcv, err := tracetest.NewReceiver()
	require.NoError(t, err)
	client, err := export.NewOTLPGRPC(export.OTLPSettings{Endpoint: rcv.GRPCEndpoint()})
	require.NoError(t, err)
	b := export.NewBatcher(export.NewOTLP(client, nil), export.WithScheduleDelay(10*time.Millisecond))
	tr = tracer.New(tracer.WithProcessor(b), tracer.WithPropagator(propagation.Default()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, tr.Shutdown(ctx))
		require.NoError(t, rcv.Close())
	})
	flush = func(n int) []tracetest.Span {
		t.Helper()
		// Server spans end after the handler returns, which can be after the
		// client has its answer: flush until n spans arrived.
		deadline := time.Now().Add(5 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			require.NoError(t, tr.ForceFlush(ctx))
			cancel()
			spans := rcv.Spans()
			if len(spans) >= n || time.Now().After(deadline) {
				require.Lenf(t, spans, n, "spans: %v", spanNames(spans))
				return spans
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return tr, rcv, flush
}

// seen is what a test handler observed in its context.
type seen struct {
	FlowID string
	Span   opentracing.Span
}

// echoServer implements the hand-written test.Echo service; streaming and
// unary kinds use wrapperspb.StringValue messages and the proto codec.
type echoServer struct {
	mu   sync.Mutex
	seen []seen
	// started is signalled when a streaming handler starts.
	started chan struct{}
}

func (e *echoServer) record(ctx context.Context) {
	e.mu.Lock()
	e.seen = append(e.seen, seen{FlowID: flowid.FromContext(ctx), Span: opentracing.SpanFromContext(ctx)})
	e.mu.Unlock()
}

func (e *echoServer) last() seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.seen) == 0 {
		return seen{}
	}
	return e.seen[len(e.seen)-1]
}

// Unary echoes the request; "code:N" fails with status N, "panic" panics,
// "wait" blocks until the call's context is done.
func (e *echoServer) unary(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	e.record(ctx)
	v := in.GetValue()
	switch {
	case strings.HasPrefix(v, "code:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(v, "code:"))
		return nil, status.Error(codes.Code(n), "failed on purpose")
	case v == "panic":
		panic("boom")
	case v == "wait":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return wrapperspb.String("echo:" + v), nil
}

// Repeat (server streaming) sends the request's value 3 times; "forever"
// sends until the client goes away.
func (e *echoServer) repeat(in *wrapperspb.StringValue, ss grpc.ServerStream) error {
	e.record(ss.Context())
	if e.started != nil {
		e.started <- struct{}{}
	}
	n := 3
	if in.GetValue() == "forever" {
		n = 1 << 30
	}
	for i := 0; i < n; i++ {
		if err := ss.SendMsg(wrapperspb.String(in.GetValue())); err != nil {
			return err
		}
		if n > 3 {
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// Collect (client streaming) joins what it receives.
func (e *echoServer) collect(ss grpc.ServerStream) error {
	e.record(ss.Context())
	var parts []string
	for {
		var m wrapperspb.StringValue
		err := ss.RecvMsg(&m)
		if errors.Is(err, io.EOF) {
			return ss.SendMsg(wrapperspb.String(strings.Join(parts, ",")))
		}
		if err != nil {
			return err
		}
		parts = append(parts, m.GetValue())
	}
}

// Chat (bidi) echoes each message until the client closes.
func (e *echoServer) chat(ss grpc.ServerStream) error {
	e.record(ss.Context())
	for {
		var m wrapperspb.StringValue
		err := ss.RecvMsg(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ss.SendMsg(wrapperspb.String("echo:" + m.GetValue())); err != nil {
			return err
		}
	}
}

const (
	mUnary   = "/test.Echo/Unary"
	mRepeat  = "/test.Echo/Repeat"
	mCollect = "/test.Echo/Collect"
	mChat    = "/test.Echo/Chat"
)

var (
	repeatDesc  = &grpc.StreamDesc{StreamName: "Repeat", ServerStreams: true}
	collectDesc = &grpc.StreamDesc{StreamName: "Collect", ClientStreams: true}
	chatDesc    = &grpc.StreamDesc{StreamName: "Chat", ClientStreams: true, ServerStreams: true}
)

func (e *echoServer) desc() *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "test.Echo",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Unary",
			Handler: func(_ any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
				req := new(wrapperspb.StringValue)
				if err := dec(req); err != nil {
					return nil, err
				}
				h := func(ctx context.Context, r any) (any, error) { return e.unary(ctx, r.(*wrapperspb.StringValue)) }
				if in == nil {
					return h(ctx, req)
				}
				return in(ctx, req, &grpc.UnaryServerInfo{FullMethod: mUnary}, h)
			},
		}},
		Streams: []grpc.StreamDesc{
			{StreamName: "Repeat", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
				in := new(wrapperspb.StringValue)
				if err := ss.RecvMsg(in); err != nil {
					return err
				}
				return e.repeat(in, ss)
			}},
			{StreamName: "Collect", ClientStreams: true, Handler: func(_ any, ss grpc.ServerStream) error { return e.collect(ss) }},
			{StreamName: "Chat", ClientStreams: true, ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error { return e.chat(ss) }},
		},
	}
}

// env is a traced server and a traced client on 127.0.0.1.
type env struct {
	echo   *echoServer
	health *health.Server
	conn   *grpc.ClientConn
	addr   string
}

// startEnv starts a server with serverOpts and a client with dialOpts; both
// are stopped when the test ends.
func startEnv(t testing.TB, serverOpts []grpc.ServerOption, dialOpts []grpc.DialOption) *env {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	e := &env{echo: &echoServer{}, health: health.NewServer(), addr: lis.Addr().String()}
	srv := grpc.NewServer(serverOpts...)
	srv.RegisterService(e.echo.desc(), nil)
	healthpb.RegisterHealthServer(srv, e.health)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient(e.addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, dialOpts...)...)
	require.NoError(t, err)
	e.conn = conn
	t.Cleanup(func() {
		_ = conn.Close()
		e.health.Shutdown()
		srv.Stop()
		<-served
	})
	return e
}

func (e *env) unary(ctx context.Context, v string, opts ...grpc.CallOption) (string, error) {
	out := new(wrapperspb.StringValue)
	err := e.conn.Invoke(ctx, mUnary, wrapperspb.String(v), out, opts...)
	return out.GetValue(), err
}

// byName indexes spans by name; it fails when a name is missing or repeated.
func byName(t testing.TB, spans []tracetest.Span, names ...string) map[string]tracetest.Span {
	t.Helper()
	out := map[string]tracetest.Span{}
	for _, name := range names {
		var found []tracetest.Span
		for _, s := range spans {
			if s.Name == name {
				found = append(found, s)
			}
		}
		require.Lenf(t, found, 1, "spans named %q among %v", name, spanNames(spans))
		out[name] = found[0]
	}
	return out
}

func spanNames(spans []tracetest.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name+"/"+kindName(s.Kind))
	}
	return out
}

func kindName(k tracer.SpanKind) string {
	switch k {
	case tracer.KindServer:
		return "server"
	case tracer.KindClient:
		return "client"
	}
	return "internal"
}

// pair returns the client and server span of one method.
func pair(t testing.TB, spans []tracetest.Span, name string) (client, server tracetest.Span) {
	t.Helper()
	var cs, ss []tracetest.Span
	for _, s := range spans {
		if s.Name != name {
			continue
		}
		switch s.Kind {
		case tracer.KindClient:
			cs = append(cs, s)
		case tracer.KindServer:
			ss = append(ss, s)
		}
	}
	require.Lenf(t, cs, 1, "client spans %q among %v", name, spanNames(spans))
	require.Lenf(t, ss, 1, "server spans %q among %v", name, spanNames(spans))
	return cs[0], ss[0]
}

// tracedEnv wires a receiver tracer on both sides with extra options.
func tracedEnv(t testing.TB, opts ...tracegrpc.Option) (*env, *tracer.Tracer, func(n int) []tracetest.Span) {
	tr, _, flush := newReceiverTracer(t)
	all := append([]tracegrpc.Option{tracegrpc.WithTracer(tr)}, opts...)
	e := startEnv(t, tracegrpc.ServerOptions(all...), tracegrpc.DialOptions(all...))
	return e, tr, flush
}

func wrapString(v string) *wrapperspb.StringValue { return wrapperspb.String(v) }
