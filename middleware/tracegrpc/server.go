package tracegrpc

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/middleware/internal/edge"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// ServerOptions returns the server options that install both
// [UnaryServerInterceptor] and [StreamServerInterceptor] with one set of
// options, chained before interceptors added later:
//
//	srv := grpc.NewServer(tracegrpc.ServerOptions(tracegrpc.WithRecovery())...)
//
// It returns a slice because grpc.ServerOption cannot be implemented, nor
// two of them joined, outside package grpc.
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
	if !c.traced(ctx, info.FullMethod) {
		return handler(ctx, req)
	}
	ctx, span, id := c.startServer(ctx, info.FullMethod)
	// A failure here means the headers went out already, which cannot be
	// the case before the handler runs.
	_ = grpc.SetHeader(ctx, metadata.MD{flowid.MetadataKey: {id}})
	defer func() {
		if r := recover(); r != nil {
			err = c.recovered(span, r)
			resp = nil
		}
		if err == nil && c.messageEvents {
			messageEvent(span, msgSent, 1, resp)
		}
		c.finishSpan(span, err, true)
	}()
	if c.messageEvents {
		messageEvent(span, msgReceived, 1, req)
	}
	return handler(ctx, req)
}

func (c *config) streamServer(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ctx := ss.Context()
	if !c.traced(ctx, info.FullMethod) {
		return handler(srv, ss)
	}
	ctx, span, id := c.startServer(ctx, info.FullMethod)
	// SetHeader before the handler runs: the flow id leaves with the first
	// message, an explicit SendHeader, or the status.
	_ = ss.SetHeader(metadata.MD{flowid.MetadataKey: {id}})
	defer func() {
		if r := recover(); r != nil {
			err = c.recovered(span, r)
		}
		c.finishSpan(span, err, true)
	}()
	return handler(srv, &serverStream{ServerStream: ss, ctx: ctx, span: span, events: c.messageEvents})
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
		return err
	}
	c.finishSpan(span, err, true)
	panic(r)
}

// startServer extracts the caller's context, starts the server span and
// settles the flow id; it returns the handler's context.
func (c *config) startServer(ctx context.Context, fullMethod string) (context.Context, opentracing.Span, string) {
	tr := c.getTracer()
	// flowtrace's tracer reads only the keys its formats need; other
	// tracers get the whole metadata to iterate.
	var carrier any = incomingCarrier{ctx}
	if _, ok := tr.(*tracer.Tracer); !ok {
		md, _ := metadata.FromIncomingContext(ctx)
		carrier = MetadataCarrier(md)
	}
	incoming, err := tr.Extract(opentracing.HTTPHeaders, carrier)
	if err != nil {
		incoming = nil
	}
	rawFlow := metadata.ValueFromIncomingContext(ctx, flowid.MetadataKey)

	// Critical operation and traffic source are decided before the span
	// starts, so that a critical call can force sampling.
	var routing edge.Decision
	if c.public || c.critical != nil || c.traffic != nil {
		routing = c.routingRules(ctx, fullMethod).Decide(incoming)
	}

	name, service, method := splitMethod(fullMethod)
	var opts [3]opentracing.StartSpanOption
	n := 1
	opts[0] = ext.SpanKindRPCServer
	if incoming != nil {
		if c.public {
			opts[n] = tracer.LinkTo(incoming)
		} else {
			opts[n] = opentracing.ChildOf(incoming)
		}
		n++
	}
	if routing.Force {
		opts[n] = edge.ForceSampling
		n++
	}
	span := tr.StartSpan(name, opts[:n]...)

	var peerAddr string
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		peerAddr = p.Addr.String()
	}
	c.startSpanTags(span, service, method, peerAddr)

	var id string
	switch {
	case c.public:
		id = flowid.New()
		if len(rawFlow) > 0 {
			semconv.FlowIDIncoming.Set(span, flowid.Sanitize(rawFlow[0]))
		}
	case len(rawFlow) == 1 && flowid.Valid(rawFlow[0]):
		id = rawFlow[0]
	case len(rawFlow) > 0:
		// Empty, too long, bad characters or several values: replace it.
		id = flowid.New()
		semconv.FlowIDInvalid.Set(span, flowid.Sanitize(rawFlow[0]))
	default:
		if incoming != nil {
			id = baggageFlowID(incoming)
		}
		if id == "" {
			id = flowid.New()
		}
	}
	setFlowAndRouting(span, id, routing, !c.public)

	ctx = opentracing.ContextWithSpan(ctx, span)
	ctx = flowid.ContextWith(ctx, id)
	return ctx, span, id
}

// routingRules returns the critical-operation and traffic-source rules of
// a call; the rule functions run only when Decide needs them.
func (c *config) routingRules(ctx context.Context, fullMethod string) *edge.Rules {
	rules := &edge.Rules{Public: c.public, Limit: c.criticalLimit}
	if c.critical != nil {
		rules.Critical = func() string { return c.critical(fullMethod) }
	}
	traffic := c.traffic
	if traffic == nil && c.public {
		traffic = DefaultTrafficSource
	}
	if traffic != nil {
		rules.Traffic = func() string { return traffic(ctx, fullMethod) }
	}
	return rules
}

// baggageFlowID returns the valid flow_id baggage item of sc, or "".
func baggageFlowID(sc opentracing.SpanContext) string {
	var id string
	sc.ForeachBaggageItem(func(k, v string) bool {
		if k == flowid.BaggageKey {
			id = v
			return false
		}
		return true
	})
	if !flowid.Valid(id) {
		return ""
	}
	return id
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
