package tracegrpc

import (
	"context"
	"log/slog"

	"github.com/opentracing/opentracing-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// config is built once per interceptor by newConfig; interceptors never
// change it afterwards.
type config struct {
	// engine holds the tracer (nil: opentracing.GlobalTracer() at call
	// time), the trust boundary and the critical-sampling cap.
	engine        instr.Engine
	filter        func(ctx context.Context, fullMethod string) bool
	critical      func(fullMethod string) string
	traffic       func(ctx context.Context, fullMethod string) string
	errorCodes    *codeSet // nil: the side's default set
	messageEvents bool
	recovery      bool
}

// Option configures the interceptors. The same options are accepted on the
// client and the server side; an option that only concerns one side (such
// as [WithRecovery]) is ignored by the other. A nil function, tracer or
// logger given to an option is ignored: the default stays.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts []Option) *config {
	c := &config{engine: instr.Engine{Format: opentracing.HTTPHeaders, FlowKey: flowid.MetadataKey}}
	instr.Configure(&c.engine, opts, func(o Option) { o.apply(c) }, &c.traffic, DefaultTrafficSource)
	return c
}

func (c *config) traced(ctx context.Context, fullMethod string) bool {
	return c.filter == nil || c.filter(ctx, fullMethod)
}

// WithTracer sets the tracer (default: opentracing.GlobalTracer(), read at
// each call).
func WithTracer(t opentracing.Tracer) Option {
	return optionFunc(func(c *config) { instr.Set(&c.engine.Tracer, t) })
}

// WithFilter traces only the calls for which f returns true. Other calls
// get no span but keep the flow id, by package middleware's rules. ctx is
// the call's context on the client and the incoming context on the server.
//
//	tracegrpc.WithFilter(func(_ context.Context, m string) bool {
//		return !strings.HasPrefix(m, "/grpc.health.v1.")
//	})
func WithFilter(f func(ctx context.Context, fullMethod string) bool) Option {
	return optionFunc(func(c *config) { instr.Set(&c.filter, f) })
}

// WithPublicEndpoint marks a server as a trust boundary (server only), as
// tracehttp.WithPublicEndpoint does: see package middleware.
func WithPublicEndpoint() Option {
	return optionFunc(func(c *config) { c.engine.Public = true })
}

// WithCriticalOperation names the critical user operation a method belongs
// to, as tracehttp.WithCriticalOperation does for a request (on the client,
// for calls whose context carries none yet).
func WithCriticalOperation(f func(fullMethod string) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.critical, f) })
}

// WithCriticalSampling caps the calls of each critical operation that are
// forced into sampling at perSecond, as tracehttp.WithCriticalSampling
// does. Default, or perSecond not positive: no cap.
func WithCriticalSampling(perSecond float64) Option {
	return optionFunc(func(c *config) { c.engine.SetCriticalSampling(perSecond) })
}

// TrafficSourceMetadataKey is the metadata key [DefaultTrafficSource] reads.
const TrafficSourceMetadataKey = "x-traffic-source"

// DefaultTrafficSource is the traffic source rule of a public endpoint
// without [WithTrafficSource]: the x-traffic-source metadata (web, app,
// push, load-test or internal, as the semconv registry lists them), or
// "unknown" when it is absent or not allowed. The value is taken as is:
// let the gateway in front of the edge set it, or pass a rule of your own.
func DefaultTrafficSource(ctx context.Context, _ string) string {
	return instr.TrafficSource(metadata.ValueFromIncomingContext(ctx, TrafficSourceMetadataKey))
}

// WithTrafficSource sets the rule that tells where a call came from (server
// only; ctx is the incoming context), as tracehttp.WithTrafficSource does.
func WithTrafficSource(f func(ctx context.Context, fullMethod string) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.traffic, f) })
}

// WithErrorCodes sets the status codes for which a span is marked as an
// error, replacing the default set of the side the option is used on. By
// default, following the OpenTelemetry RPC conventions, a server span is an
// error for Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable
// and DataLoss, and a client span for every code but OK. Calling it with no
// codes marks no span as an error.
func WithErrorCodes(cs ...codes.Code) Option {
	return optionFunc(func(c *config) { c.errorCodes = newCodeSet(cs...) })
}

// WithMessageEvents logs an event on the span for every message sent and
// received, with its sequence number and size (off by default: a long
// stream would fill the span's event limit).
func WithMessageEvents() Option {
	return optionFunc(func(c *config) { c.messageEvents = true })
}

// WithRecovery makes the server interceptors recover from a panic in the
// handler: the panic is recorded on the span and the call fails with
// codes.Internal, and a warning goes to the logger (see WithLogger;
// rate-limited), since nothing else would show it. Without it the panic is
// recorded, the span finished, and the panic continues. Ignored on the
// client side.
func WithRecovery() Option {
	return optionFunc(func(c *config) { c.recovery = true })
}

// WithLogger sets where the interceptors report (a panic WithRecovery
// recovered). Default: the tracer's when it is flowtrace's (the logger
// flowtrace.Start configured), else the SDK's default on stderr.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { instr.Set(&c.engine.Logger, l) })
}

// codeSet is a set of gRPC status codes (codes 0-16 are the defined ones;
// anything above is kept in the overflow map).
type codeSet struct {
	bits  uint32
	other map[codes.Code]bool
}

func newCodeSet(cs ...codes.Code) *codeSet {
	s := &codeSet{}
	for _, c := range cs {
		if c < 32 {
			s.bits |= 1 << c
			continue
		}
		if s.other == nil {
			s.other = make(map[codes.Code]bool)
		}
		s.other[c] = true
	}
	return s
}

func (s *codeSet) has(c codes.Code) bool {
	if c < 32 {
		return s.bits&(1<<c) != 0
	}
	return s.other[c]
}

var defaultServerErrors = newCodeSet(codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented,
	codes.Internal, codes.Unavailable, codes.DataLoss)

// isError reports whether code marks the span as an error on the given side.
func (c *config) isError(code codes.Code, server bool) bool {
	if code == codes.OK {
		return false
	}
	if c.errorCodes != nil {
		return c.errorCodes.has(code)
	}
	if server {
		return defaultServerErrors.has(code)
	}
	return true
}
