package tracegrpc

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/opentracing/opentracing-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
)

// DialOptions returns the dial options that install both
// [UnaryClientInterceptor] and [StreamClientInterceptor] with one set of
// options, chained before interceptors added later (a slice: see the
// package documentation's Wiring).
func DialOptions(opts ...Option) []grpc.DialOption {
	c := newConfig(opts)
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(c.unaryClient),
		grpc.WithChainStreamInterceptor(c.streamClient),
	}
}

// UnaryClientInterceptor traces unary calls: see the package documentation.
// The invoker's error is returned as is.
func UnaryClientInterceptor(opts ...Option) grpc.UnaryClientInterceptor {
	return newConfig(opts).unaryClient
}

// StreamClientInterceptor traces streaming calls; the span ends once, when
// the stream ends (see the package documentation). Errors are returned as is.
func StreamClientInterceptor(opts ...Option) grpc.StreamClientInterceptor {
	return newConfig(opts).streamClient
}

func (c *config) unaryClient(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if !c.traced(ctx, method) {
		return invoker(c.propagateOnly(ctx), method, req, reply, cc, opts...)
	}
	ctx, span := c.startClient(ctx, method, cc)
	if c.messageEvents {
		messageEvent(span, msgSent, 1, req)
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	if err == nil && c.messageEvents {
		messageEvent(span, msgReceived, 1, reply)
	}
	c.finishSpan(span, err, false)
	return err
}

func (c *config) streamClient(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if !c.traced(ctx, method) {
		return streamer(c.propagateOnly(ctx), desc, cc, method, opts...)
	}
	ctx, span := c.startClient(ctx, method, cc)
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		c.finishSpan(span, err, false)
		return cs, err
	}
	s := &clientStream{ClientStream: cs, cfg: c, span: span, serverStreams: desc.ServerStreams}
	// context.AfterFunc starts no goroutine until ctx is done, and none at
	// all for a context that cannot be cancelled; end deregisters it.
	s.stop = context.AfterFunc(ctx, func() {
		s.end(status.FromContextError(ctx.Err()).Err(), false)
	})
	return s, nil
}

// startClient starts the client span, settles the flow id and returns a
// context whose outgoing metadata is a copy carrying both.
func (c *config) startClient(ctx context.Context, method string, cc *grpc.ClientConn) (context.Context, opentracing.Span) {
	e := &c.engine
	tr := e.TracerFor()
	mn := methodsOf(method)
	ob := instr.Outbound{Name: mn.name, Kind: instr.KindClient, Critical: instr.Bind(c.critical, method)}
	span := e.StartOutbound(ctx, tr, &ob)
	var target string
	if cc != nil {
		target = cc.Target()
	}
	c.startSpanTags(span, false, mn, target)

	carrier := outgoing(ctx, tr)
	e.Inject(ctx, tr, span, carrier, carrier)
	return carrier.context(ctx), span
}

// outgoing returns the carrier that writes over a copy of ctx's outgoing
// metadata (keys lower-cased), so that the caller's metadata is never
// changed, counting drops for tr.
func outgoing(ctx context.Context, tr opentracing.Tracer) *countingCarrier {
	md, _ := metadata.FromOutgoingContext(ctx)
	cc := &countingCarrier{MetadataCarrier: MetadataCarrier(md), dropped: &instr.Counters(tr).DroppedValues}
	cc.kv = cc.pairs[:0]
	return cc
}

// propagateOnly passes the caller's trace context and flow id on for a
// filtered call.
func (c *config) propagateOnly(ctx context.Context) context.Context {
	if !instr.HasOutbound(ctx) {
		return ctx
	}
	carrier := outgoing(ctx, c.engine.TracerFor())
	c.engine.PropagateOnly(ctx, carrier, carrier)
	return carrier.context(ctx)
}

// clientStream ends the span when the stream really ends. grpc-go allows
// one goroutine in SendMsg and another in RecvMsg at once, so each message
// counter belongs to one of them.
type clientStream struct {
	grpc.ClientStream
	cfg           *config
	span          opentracing.Span
	serverStreams bool
	stop          func() bool
	done          atomic.Bool
	sent, recv    int
}

// end finishes the span the first time it is called.
func (s *clientStream) end(err error, deregister bool) {
	if !s.done.CompareAndSwap(false, true) {
		return
	}
	if deregister {
		s.stop()
	}
	s.cfg.finishSpan(s.span, err, false)
}

func (s *clientStream) Header() (metadata.MD, error) {
	md, err := s.ClientStream.Header()
	if err != nil {
		s.end(err, true)
	}
	return md, err
}

func (s *clientStream) SendMsg(m any) error {
	err := s.ClientStream.SendMsg(m)
	switch {
	case err == nil:
		if s.cfg.messageEvents && !s.done.Load() {
			s.sent++
			messageEvent(s.span, msgSent, s.sent, m)
		}
	case err != io.EOF:
		// io.EOF means the server ended the stream: its status comes from
		// RecvMsg, which ends the span.
		s.end(err, true)
	}
	return err
}

func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	switch {
	case err == io.EOF:
		s.end(nil, true)
	case err != nil:
		s.end(err, true)
	default:
		if s.cfg.messageEvents && !s.done.Load() {
			s.recv++
			messageEvent(s.span, msgReceived, s.recv, m)
		}
		if !s.serverStreams {
			// The single response of a unary-response stream: grpc-go has
			// already read the status.
			s.end(nil, true)
		}
	}
	return err
}

func (s *clientStream) CloseSend() error {
	err := s.ClientStream.CloseSend()
	if err != nil {
		s.end(err, true)
	}
	return err
}
