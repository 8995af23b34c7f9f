package tracehttp

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
)

// transport is the client middleware.
type transport struct {
	base  http.RoundTripper
	cfg   *config
	names nameCache
}

var _ http.RoundTripper = (*transport)(nil)

// NewTransport returns base wrapped so that every request it sends gets a
// client span, with the trace context and flow id injected into a copy of
// the request; when the span ends is in the package documentation. A nil
// base means http.DefaultTransport.
func NewTransport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, cfg: newConfig(opts)}
}

// WrapClient returns a copy of c (nil: a zero http.Client) whose Transport
// is NewTransport(c.Transport, opts...). c itself is not changed.
func WrapClient(c *http.Client, opts ...Option) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.Transport = NewTransport(out.Transport, opts...)
	return &out
}

// CloseIdleConnections closes the idle connections of the base transport
// when it can, so that http.Client.CloseIdleConnections keeps working.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	cfg := t.cfg
	e := &cfg.engine
	ctx := req.Context()
	if cfg.filter != nil && !cfg.filter(req) {
		if !instr.HasOutbound(ctx) {
			return t.base.RoundTrip(req)
		}
		out := req.Clone(ctx)
		e.PropagateOnly(ctx, opentracing.HTTPHeadersCarrier(out.Header), headerFlow(out.Header))
		return t.base.RoundTrip(out)
	}
	parent := opentracing.SpanFromContext(ctx)
	tr := e.TracerFor()
	if _, noop := tr.(opentracing.NoopTracer); noop && parent != nil {
		// The global tracer was never set but the caller's span came from
		// a real tracer: follow the caller.
		tr = parent.Tracer()
	}

	mi := methodIndex(req.Method)
	// A client can be the edge of a critical operation too (a batch job):
	// the rule applies when the caller's context carries none yet.
	ob := instr.Outbound{Name: t.spanName(mi, req), Kind: instr.KindClient, Critical: instr.Bind(cfg.critical, req), Room: 16}
	sp := e.StartOutbound(ctx, tr, &ob)
	em := e.Semconv.Emitter(stability.HTTP, stability.Client)
	semconv.Component.Set(sp, componentName)
	em.Set(sp, semconv.HTTPMethod.Key(), methodTags[mi])
	if mi == len(knownMethods) {
		em.Set(sp, semconv.HTTPMethodOriginal.Key(), sanitizeText(req.Method, maxMethodLen))
	}
	if req.URL != nil {
		em.Set(sp, semconv.HTTPURL.Key(), safeURL(req.URL))
		pt := peers.Get(req.URL.Host, newPeerTags)
		if pt.host != nil {
			em.Set(sp, semconv.PeerHostname.Key(), pt.host)
		}
		if pt.port != nil {
			em.Set(sp, semconv.PeerPort.Key(), pt.port)
		}
	}
	cfg.setUserTags(sp, req)

	// A shallow copy with its own headers is enough: only the headers are
	// written, and the caller's request stays as it was (Clone would also
	// copy the URL, trailers and forms on every call).
	out := new(http.Request)
	*out = *req
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	e.Inject(ctx, tr, sp, opentracing.HTTPHeadersCarrier(out.Header), headerFlow(out.Header))

	resp, err := t.base.RoundTrip(out)
	if err != nil {
		instr.MarkError(sp, safeError(err))
		sp.Finish()
		return resp, err
	}
	em.Set(sp, semconv.HTTPStatusCode.Key(), resp.StatusCode)
	if cfg.isError(resp.StatusCode, false) {
		semconv.Error.Set(sp, true)
	}
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusSwitchingProtocols {
		sp.Finish()
		return resp, nil
	}
	resp.Body = newTracedBody(resp.Body, sp, em)
	return resp, nil
}

// peerTags are the peer.hostname and peer.port values of a URL host, boxed
// once per host (nil: not recorded): a client calls a few hosts, and an
// interface per tag and request would allocate.
type peerTags struct{ host, port any }

var peers instr.Cache[*peerTags]

func newPeerTags(hostport string) *peerTags {
	u := url.URL{Host: hostport}
	pt := &peerTags{}
	if host := u.Hostname(); host != "" {
		if h, ok := sanitizeHost(host); ok {
			pt.host = h
		}
	}
	if port := u.Port(); port != "" {
		if p, err := strconv.ParseUint(port, 10, 16); err == nil {
			pt.port = int(p)
		}
	}
	return pt
}

// headerFlow gives the engine the flow-id field of an http.Header; keys are
// canonical already, so it uses the map directly.
type headerFlow http.Header

func (h headerFlow) Values(key string) []string { return h[key] }
func (h headerFlow) Set(key, value string)      { h[key] = []string{value} }

func (t *transport) spanName(mi int, req *http.Request) string {
	var rn *routeNames
	if t.cfg.route != nil {
		rn = t.names.forRule(t.cfg.route, req)
	}
	return t.cfg.spanName(mi, rn, req)
}

// safeURL returns scheme://host/path of u: no userinfo, no query string, no
// fragment, path cut to a bounded length. It allocates one string.
func safeURL(u *url.URL) string {
	host := u.Host
	if h, ok := sanitizeHost(host); ok {
		host = h
	} else {
		host = ""
	}
	path := truncate(u.EscapedPath(), maxPathLen)
	if u.Scheme == "" && host == "" {
		return path
	}
	scheme := u.Scheme
	switch scheme {
	case "http", "https":
	default:
		scheme = sanitizeText(scheme, 16)
	}
	return scheme + "://" + host + path
}

// safeError returns the message of a transport error without the URL that
// *url.Error carries (it may hold credentials or query tokens), bounded.
func safeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	msg := err.Error()
	// A nested error may still quote a URL: drop its query string.
	if i := strings.IndexByte(msg, '?'); i >= 0 {
		msg = msg[:i] + "?[REDACTED]"
	}
	return sanitizeText(msg, maxErrorLen)
}

// tracedBody finishes the client span at EOF, on a read error or on Close,
// whichever comes first, exactly once. Close may race with Read (net/http
// allows closing a body to abort a read), hence the atomics.
type tracedBody struct {
	rc   io.ReadCloser
	sp   opentracing.Span
	em   stability.Emitter
	n    atomic.Int64
	done atomic.Bool
}

func newTracedBody(rc io.ReadCloser, sp opentracing.Span, em stability.Emitter) io.ReadCloser {
	b := &tracedBody{rc: rc, sp: sp, em: em}
	if _, ok := rc.(io.WriterTo); ok {
		return &tracedBodyWriterTo{b}
	}
	return b
}

func (b *tracedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.n.Add(int64(n))
	}
	if err != nil {
		b.end(err)
	}
	return n, err
}

func (b *tracedBody) Close() error {
	err := b.rc.Close()
	b.end(nil)
	return err
}

func (b *tracedBody) end(err error) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	if err != nil && err != io.EOF {
		instr.MarkError(b.sp, safeError(err))
	}
	if n := b.n.Load(); n > 0 {
		b.em.Set(b.sp, semconv.HTTPResponseSize.Key(), int(n))
	}
	b.sp.Finish()
}

// tracedBodyWriterTo keeps the body's io.WriterTo (io.Copy's fast path).
type tracedBodyWriterTo struct{ *tracedBody }

func (b *tracedBodyWriterTo) WriteTo(w io.Writer) (int64, error) {
	n, err := b.rc.(io.WriterTo).WriteTo(w)
	b.n.Add(n)
	// WriteTo reads to EOF: a nil error means the body is done.
	b.end(err)
	return n, err
}
