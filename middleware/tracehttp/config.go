package tracehttp

import (
	"net/http"
	"net/textproto"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/semconv"
)

// Option configures NewHandler, NewTransport and WrapClient. One option type
// serves both sides; an option that only makes sense on one side says so
// and is ignored on the other. A nil function or tracer given to an option
// is ignored: the default stays.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	// engine holds the tracer, the trust boundary and the critical-sampling
	// cap: what every transport shares.
	engine        instr.Engine
	filter        func(*http.Request) bool
	route         func(*http.Request) string
	nameFormatter func(method, route string, r *http.Request) string
	tags          func(*http.Request) opentracing.Tags
	critical      func(*http.Request) string
	traffic       func(*http.Request) string
	errorStatus   func(int) bool
	recorded      []recordedHeader
	redacted      map[string]bool // canonical header names never recorded
}

type recordedHeader struct {
	canonical string // http.Header key
	tag       string // http.request.header.<lower-case name>
}

// alwaysRedacted are the headers whose values are never recorded, whatever
// the options say.
var alwaysRedacted = []string{"Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization"}

func newConfig(opts []Option) *config {
	c := &config{
		engine:   instr.Engine{Format: opentracing.HTTPHeaders, FlowKey: flowIDHeaderKey},
		redacted: make(map[string]bool, len(alwaysRedacted)),
	}
	for _, h := range alwaysRedacted {
		c.redacted[h] = true
	}
	instr.Configure(&c.engine, opts, func(o Option) { o.apply(c) }, &c.traffic, DefaultTrafficSource)
	return c
}

// WithTracer sets the OpenTracing tracer. Default: opentracing.GlobalTracer(),
// looked up on every request so that a tracer registered after the handler
// was built is used. Any OpenTracing tracer works; flowtrace's
// (*tracer.Tracer) adds links for WithPublicEndpoint.
func WithTracer(t opentracing.Tracer) Option {
	return optionFunc(func(c *config) { instr.Set(&c.engine.Tracer, t) })
}

// WithFilter decides per request whether a span is made: f returns false to
// skip tracing (health checks, metrics scrapes). A skipped request keeps
// its flow id (package middleware's rules: the server still echoes
// X-Flow-ID, the client still passes the caller's trace context on).
// Default: trace everything.
func WithFilter(f func(r *http.Request) bool) Option {
	return optionFunc(func(c *config) { instr.Set(&c.filter, f) })
}

// WithPublicEndpoint marks a server as a trust boundary (server only): each
// request starts a new root trace (linked to a valid incoming span context)
// with a new flow id, and incoming baggage is discarded. See package
// middleware.
func WithPublicEndpoint() Option {
	return optionFunc(func(c *config) { c.engine.Public = true })
}

// WithRoute sets the function that returns the route template of a request
// ("/users/{id}"), used in the span name and the http.route tag. It must
// return a bounded set of values: never the raw path. On the client side
// the template names the span ("GET /users/{id}"). An empty result means
// "no route". Default (server): the pattern of the *http.ServeMux being
// wrapped, or else the request's Pattern after the handler ran.
func WithRoute(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.route, f) })
}

// WithSpanNameFormatter replaces the span name "METHOD route" (or "METHOD"
// when the route is unknown). method is already normalised (unknown methods
// are "_OTHER") and route may be empty. The result must be of bounded
// cardinality. With a formatter, names are not cached.
func WithSpanNameFormatter(f func(method, route string, r *http.Request) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.nameFormatter, f) })
}

// WithTags adds tags computed from the request to every span. The function
// runs on the request path: keep it cheap, and never return secrets.
func WithTags(f func(r *http.Request) opentracing.Tags) Option {
	return optionFunc(func(c *config) { instr.Set(&c.tags, f) })
}

// WithCriticalOperation names the critical user operation a request belongs
// to ("checkout"), decided before its span starts (on the client, for
// requests whose context carries none yet). A name the semconv registry
// allows forces the span into sampling (sampling.priority; see
// [WithCriticalSampling]) and travels as the critical_operation baggage
// item and tag. A trusted caller's valid critical_operation wins; at a
// public endpoint only f decides. A typical f looks the route up:
//
//	tracehttp.WithCriticalOperation(func(r *http.Request) string {
//		_, pattern := mux.Handler(r)
//		return map[string]string{"POST /checkout": "checkout"}[pattern]
//	})
func WithCriticalOperation(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.critical, f) })
}

// WithCriticalSampling caps the requests of each critical operation that
// are forced into sampling at perSecond (a token bucket per name holding
// one second's worth; at most 256 names have one of their own). Requests
// over the cap keep the operation in baggage and tags and are sampled by
// the tracer's own sampler. Default, or perSecond not positive: no cap.
func WithCriticalSampling(perSecond float64) Option {
	return optionFunc(func(c *config) { c.engine.SetCriticalSampling(perSecond) })
}

// TrafficSourceHeader is the request header [DefaultTrafficSource] reads.
const TrafficSourceHeader = "X-Traffic-Source"

// DefaultTrafficSource is the traffic source rule of a public endpoint
// without [WithTrafficSource]: the X-Traffic-Source header (web, app, push,
// load-test or internal, as the semconv registry lists them), "unknown"
// when it is absent, repeated or not allowed (tracegrpc's rule too). The
// header is taken as is: let the load balancer or gateway in front of the
// edge set it (and strip what clients send), or pass a rule of your own.
func DefaultTrafficSource(r *http.Request) string {
	return instr.TrafficSource(r.Header[TrafficSourceHeader])
}

// WithTrafficSource sets the rule that tells where a request came from
// (server only). Its result, when the semconv registry allows it, else
// "unknown", travels as the traffic_source baggage item and tag, so load
// tests can be left out of SLOs. A trusted caller's valid traffic_source
// wins. A public endpoint without a rule applies [DefaultTrafficSource].
func WithTrafficSource(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { instr.Set(&c.traffic, f) })
}

// WithErrorStatus decides which status codes mark the span as failed.
// Default: 500-599 on the server, 400-599 on the client.
func WithErrorStatus(f func(status int) bool) Option {
	return optionFunc(func(c *config) { instr.Set(&c.errorStatus, f) })
}

// WithRecordedHeaders records the named request headers as tags
// http.request.header.<lower-case name> (values truncated to 256 bytes,
// control characters escaped). Nothing is recorded by default. Headers that
// are redacted (Authorization, Cookie, Set-Cookie, Proxy-Authorization and
// those named in WithRedactedHeaders) are recorded as "[REDACTED]".
func WithRecordedHeaders(names ...string) Option {
	return optionFunc(func(c *config) {
		for _, n := range names {
			if n == "" {
				continue
			}
			canon := textproto.CanonicalMIMEHeaderKey(n)
			lower := make([]byte, len(canon))
			for i := 0; i < len(canon); i++ {
				b := canon[i]
				if 'A' <= b && b <= 'Z' {
					b += 'a' - 'A'
				}
				lower[i] = b
			}
			c.recorded = append(c.recorded, recordedHeader{canonical: canon, tag: semconv.HTTPRequestHeader.Key(string(lower))})
		}
	})
}

// WithRedactedHeaders adds header names whose values must never be recorded
// (API keys, session headers). Authorization, Cookie, Set-Cookie and
// Proxy-Authorization are always redacted.
func WithRedactedHeaders(names ...string) Option {
	return optionFunc(func(c *config) {
		for _, n := range names {
			if n != "" {
				c.redacted[textproto.CanonicalMIMEHeaderKey(n)] = true
			}
		}
	})
}
