package tracegrpc

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/opentracing/opentracing-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/semconv"
)

// ServerOptions returns the server options that install both
// [UnaryServerInterceptor] and [StreamServerInterceptor] with one set of
// options, chained before interceptors added later (a slice: see the
// package documentation's Wiring).
func ServerOptions(opts ...Option) []grpc.ServerOption {
	c := newConfig(opts)
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(c.unaryServer),
		grpc.ChainStreamInterceptor(c.streamServer),
	}
}

// UnaryServerInterceptor traces unary calls: see the package documentation.
func UnaryServerInterceptor(opts ...Option) grpc.UnaryServerInterceptor {
	return newConfig(opts).unaryServer
}

// StreamServerInterceptor traces streaming calls; the span ends when the
// handler returns.
func StreamServerInterceptor(opts ...Option) grpc.StreamServerInterceptor {
	return newConfig(opts).streamServer
}

func (c *config) unaryServer(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	ctx, span, id := c.startServer(ctx, info.FullMethod)
	// A failure here means the headers went out already, which cannot be
	// the case before the handler runs.
	_ = grpc.SetHeader(ctx, metadata.MD{flowid.MetadataKey: {id}})
	if span == nil {
		return handler(ctx, req)
	}
	defer c.endServer(span, &err)
	if c.messageEvents {
		messageEvent(span, msgReceived, 1, req)
	}
	// A panicking handler returns nothing: resp stays nil.
	if resp, err = handler(ctx, req); err == nil && c.messageEvents {
		messageEvent(span, msgSent, 1, resp)
	}
	return resp, err
}

func (c *config) streamServer(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ctx, span, id := c.startServer(ss.Context(), info.FullMethod)
	// SetHeader before the handler runs: the flow id leaves with the first
	// message, an explicit SendHeader, or the status.
	_ = ss.SetHeader(metadata.MD{flowid.MetadataKey: {id}})
	if span == nil {
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
	defer c.endServer(span, &err)
	return handler(srv, &serverStream{ServerStream: ss, ctx: ctx, span: span, events: c.messageEvents})
}

// endServer, deferred by the server interceptors, records a panic of the
// handler (recovered) and finishes the span with the call's error, *err.
func (c *config) endServer(span opentracing.Span, err *error) {
	if r := recover(); r != nil {
		*err = c.recovered(span, r)
	}
	c.finishSpan(span, *err, true)
}

// recovered records a panic on span. With WithRecovery it returns the
// error the call fails with; otherwise it finishes the span and panics on.
func (c *config) recovered(span opentracing.Span, r any) error {
	semconv.Error.Set(span, true)
	span.LogFields(
		semconv.Event.Field("panic"),
		semconv.Message.Field(fmt.Sprint(r)),
		semconv.Stack.Field(string(debug.Stack())),
	)
	err := status.Error(codes.Internal, "internal error")
	if c.recovery {
		sdklog.Warnf(c.engine.Log(), "tracegrpc: recovered a panic in a handler (the call fails with Internal): %s", fmt.Sprint(r))
		return err
	}
	c.finishSpan(span, err, true)
	panic(r)
}

// startServer extracts the caller's context, starts the server span and
// settles the flow id; it returns the handler's context. A call WithFilter
// leaves out gets no span (nil), only its flow id.
func (c *config) startServer(ctx context.Context, fullMethod string) (context.Context, opentracing.Span, string) {
	e := &c.engine
	flowIDs := metadata.ValueFromIncomingContext(ctx, flowid.MetadataKey)
	if !c.traced(ctx, fullMethod) {
		id := e.Untraced(flowIDs)
		return flowid.ContextWith(ctx, id), nil, id
	}
	tr := e.TracerFor()
	// flowtrace's tracer reads only the keys its formats need; other
	// tracers get the whole metadata to iterate.
	var carrier any = incomingCarrier{ctx, flowIDs}
	if !instr.Own(tr) {
		md, _ := metadata.FromIncomingContext(ctx)
		carrier = MetadataCarrier(md)
	}
	mn := methodsOf(fullMethod)
	in := instr.Inbound{
		Name:     mn.name,
		Kind:     instr.KindServer,
		Incoming: e.Extract(tr, carrier),
		FlowIDs:  flowIDs,
		Critical: instr.Bind(c.critical, fullMethod),
	}
	if c.traffic != nil {
		in.Traffic = func() string { return c.traffic(ctx, fullMethod) }
	}
	st := e.StartInbound(ctx, tr, &in)

	var peerAddr string
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		peerAddr = p.Addr.String()
	}
	c.startSpanTags(st.Span, true, mn, peerAddr)
	return st.Ctx, st.Span, st.FlowID
}

// serverStream gives the handler the traced context and logs messages.
type serverStream struct {
	grpc.ServerStream
	ctx        context.Context
	span       opentracing.Span
	events     bool
	sent, recv int
}

func (s *serverStream) Context() context.Context { return s.ctx }

func (s *serverStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil && s.events {
		s.sent++
		messageEvent(s.span, msgSent, s.sent, m)
	}
	return err
}

func (s *serverStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil && s.events {
		s.recv++
		messageEvent(s.span, msgReceived, s.recv, m)
	}
	return err
}
