package tracegrpc

import (
	"context"

	"github.com/opentracing/opentracing-go"
	"google.golang.org/grpc/codes"
)

// config is built once per interceptor by newConfig; interceptors never
// change it afterwards.
type config struct {
	tracer        opentracing.Tracer // nil: opentracing.GlobalTracer() at call time
	filter        func(ctx context.Context, fullMethod string) bool
	public        bool
	critical      func(fullMethod string) string
	errorCodes    *codeSet // nil: the side's default set
	messageEvents bool
	recovery      bool
}

// Option configures the interceptors. The same options are accepted on the
// client and the server side; an option that only concerns one side (such
// as [WithRecovery]) is ignored by the other.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	return c
}

func (c *config) getTracer() opentracing.Tracer {
	if c.tracer != nil {
		return c.tracer
	}
	// Read on every call so that a global tracer installed after the
	// interceptors were built is still used.
	return opentracing.GlobalTracer()
}

func (c *config) traced(ctx context.Context, fullMethod string) bool {
	return c.filter == nil || c.filter(ctx, fullMethod)
}

// WithTracer sets the tracer (default: opentracing.GlobalTracer(), read at
// each call). A nil tracer is ignored.
func WithTracer(t opentracing.Tracer) Option {
	return optionFunc(func(c *config) {
		if t != nil {
			c.tracer = t
		}
	})
}

// WithFilter traces only the calls for which f returns true; other calls
// pass through untouched (no span, no flow id handling). ctx is the call's
// context on the client and the incoming context on the server. A nil f is
// ignored.
//
//	tracegrpc.WithFilter(func(_ context.Context, m string) bool {
//		return !strings.HasPrefix(m, "/grpc.health.v1.")
//	})
func WithFilter(f func(ctx context.Context, fullMethod string) bool) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.filter = f
		}
	})
}

// WithPublicEndpoint marks a server as a trust boundary (an edge that
// untrusted clients call): the server span starts a new trace, linked to the
// incoming span context with tracer.LinkTo instead of being its child;
// incoming baggage is not inherited; and the incoming flow id is replaced by
// a new one (recorded, sanitised, as the tag flow_id.incoming). Ignored on
// the client side.
func WithPublicEndpoint() Option {
	return optionFunc(func(c *config) { c.public = true })
}

// WithCriticalOperation names the critical user operation a method belongs
// to: when f returns a non-empty name, it is set as the baggage item and tag
// critical_operation, so that every downstream span of the call carries it.
// A nil f is ignored.
func WithCriticalOperation(f func(fullMethod string) string) Option {
	return optionFunc(func(c *config) {
		if f != nil {
			c.critical = f
		}
	})
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
// codes.Internal. Without it the panic is recorded, the span finished, and
// the panic continues. Ignored on the client side.
func WithRecovery() Option {
	return optionFunc(func(c *config) { c.recovery = true })
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
