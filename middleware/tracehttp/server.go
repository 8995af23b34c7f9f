package tracehttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/opentracing/opentracing-go"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
	"github.com/flowtrace/flowtrace/tracer"
)

const (
	componentName = "net/http"
	// flowIDHeaderKey is flowid.Header in canonical form, for direct map
	// access.
	flowIDHeaderKey = "X-Flow-Id"
	redactedValue   = "[REDACTED]"
)

// handler is the server middleware.
type handler struct {
	next  http.Handler
	mux   *http.ServeMux    // next, when it is a ServeMux
	em    stability.Emitter // the tags' names (OTEL_SEMCONV_STABILITY_OPT_IN)
	cfg   *config
	names nameCache
}

// NewHandler returns h wrapped so that every request gets a server span
// ("METHOD route": where the route comes from is in the package
// documentation), a flow id in its context and an X-Flow-ID response
// header. A nil h means http.DefaultServeMux, as in http.Server.
func NewHandler(h http.Handler, opts ...Option) http.Handler {
	if h == nil {
		h = http.DefaultServeMux
	}
	hd := &handler{next: h, cfg: newConfig(opts)}
	hd.mux, _ = h.(*http.ServeMux)
	hd.em = hd.cfg.engine.Semconv.Emitter(stability.HTTP, stability.Server)
	return hd
}

// spanName returns the name, on either side, for method index mi and route
// names rn (nil: route unknown).
func (c *config) spanName(mi int, rn *routeNames, r *http.Request) string {
	if c.nameFormatter != nil {
		route := ""
		if rn != nil {
			route = rn.route
		}
		return c.nameFormatter(methodName(mi), route, r)
	}
	if rn == nil || rn.route == "" {
		return methodName(mi)
	}
	return rn.names[mi]
}

func methodName(mi int) string {
	if mi == len(knownMethods) {
		return methodOther
	}
	return knownMethods[mi]
}

// routeAtStart returns the route known before the handler runs.
func (h *handler) routeAtStart(r *http.Request) *routeNames {
	if h.cfg.route != nil {
		return h.names.forRule(h.cfg.route, r)
	}
	if r.Pattern != "" {
		if redirectPattern(r, r.Pattern) {
			return nil
		}
		return h.names.forPattern(r.Pattern)
	}
	if h.mux != nil {
		if _, p := h.mux.Handler(r); p != "" && !redirectPattern(r, p) {
			return h.names.forPattern(p)
		}
	}
	return nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := h.cfg
	if cfg.filter != nil && !cfg.filter(r) {
		h.serveUntraced(w, r)
		return
	}
	e := &cfg.engine
	tr := e.TracerFor()
	mi := methodIndex(r.Method)
	rn := h.routeAtStart(r)
	in := instr.Inbound{
		Name:     h.cfg.spanName(mi, rn, r),
		Kind:     instr.KindServer,
		Incoming: e.Extract(tr, opentracing.HTTPHeadersCarrier(r.Header)),
		FlowIDs:  r.Header[flowIDHeaderKey],
		Critical: instr.Bind(cfg.critical, r),
		Traffic:  instr.Bind(cfg.traffic, r),
		Room:     16,
	}
	st := e.StartInbound(r.Context(), tr, &in)
	sp, rec := st.Span, st.Recording
	if rec {
		h.setRequestTags(sp, r, mi, rn)
		cfg.setUserTags(sp, r)
	}
	r2 := r.WithContext(st.Ctx)

	if !rec {
		// Nothing to record: hand the writer on untouched. The span still
		// carries trace context and baggage for outgoing calls.
		w.Header()[flowIDHeaderKey] = []string{st.FlowID}
		defer sp.Finish()
		h.next.ServeHTTP(w, r2)
		return
	}
	ww, st2 := wrapWriter(w)
	// The header's value slice lives in the wrapper's allocation.
	st2.flowID[0] = st.FlowID
	w.Header()[flowIDHeaderKey] = st2.flowID[:]
	defer func() {
		if p := recover(); p != nil {
			finishPanic(h.em, sp, st2, p)
			panic(p)
		}
	}()
	h.next.ServeHTTP(ww, r2)

	if rn == nil && r2.Pattern != "" && !redirectPattern(r2, r2.Pattern) {
		rn = h.names.forPattern(r2.Pattern)
		sp.SetOperationName(h.cfg.spanName(mi, rn, r2))
		if rn.route != "" {
			sp.SetTag(semconv.HTTPRoute.Key(), rn.routeTag)
		}
	}
	h.finish(sp, st2)
}

// setRequestTags records what the request says about itself, bounded; the
// query only under the stable names, its values redacted. Under the legacy
// names flowtrace's span takes them in one call (one lock, not one a tag).
func (h *handler) setRequestTags(sp opentracing.Span, r *http.Request, mi int, rn *routeNames) {
	tags := make([]tracer.Attribute, 0, 12)
	set := func(key string, v any) { tags = append(tags, tracer.Attribute{Key: key, Value: v}) }
	set(semconv.Component.Key(), componentName)
	set(semconv.HTTPMethod.Key(), methodTags[mi])
	if mi == len(knownMethods) {
		set(semconv.HTTPMethodOriginal.Key(), sanitizeText(r.Method, maxMethodLen))
	}
	if r.URL != nil {
		set(semconv.HTTPURL.Key(), truncate(r.URL.EscapedPath(), maxPathLen))
		if r.URL.RawQuery != "" && h.em.Stable() {
			set(semconv.URLQuery.Key(), redactQuery(r.URL.RawQuery))
		}
	}
	if rn != nil && rn.route != "" {
		set(semconv.HTTPRoute.Key(), rn.routeTag) // boxed once per route; no stable rename
	}
	if r.TLS != nil {
		set(semconv.HTTPScheme.Key(), semconv.HTTPSchemeHTTPS)
	} else {
		set(semconv.HTTPScheme.Key(), semconv.HTTPSchemeHTTP)
	}
	if host, ok := sanitizeHost(r.Host); ok {
		set(semconv.HTTPHost.Key(), requestValues.Get(host, box))
	}
	if ua := r.Header["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		set(semconv.UserAgent.Key(), requestValues.Get(sanitizeText(ua[0], maxUserAgentLen), box))
	}
	if r.ContentLength > 0 {
		set(semconv.HTTPRequestContentLength.Key(), int(r.ContentLength))
	}
	setPeerTags(set, r.RemoteAddr)
	if s, ok := sp.(*tracer.Span); ok && !h.em.Stable() {
		s.SetAttributes(tags)
		return
	}
	for _, a := range tags {
		h.em.Set(sp, a.Key, a.Value)
	}
}

// requestValues holds hosts and user agents as tag values, boxed once: a
// server sees few of each, and an interface per tag and request would
// allocate. The table is bounded (instr.MaxCached); past it a value is
// boxed per request, as before.
var requestValues instr.Cache[any]

func box(s string) any { return s }

// redactQuery returns a query string with its parameter names (sanitized)
// and every value replaced by REDACTED: a value may be a token, and
// OpenTelemetry asks for url.query to be redacted; bounded like the path.
func redactQuery(q string) string {
	if len(q) > maxPathLen {
		q = q[:maxPathLen]
	}
	var b strings.Builder
	for part := range strings.SplitSeq(q, "&") {
		if part == "" {
			continue
		}
		name, _, hasValue := strings.Cut(part, "=")
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name)
		if hasValue {
			b.WriteString("=REDACTED")
		}
	}
	return sanitizeText(b.String(), maxPathLen)
}

// setPeerTags records the remote address "ip:port" as peer.address and
// peer.ipv4 or peer.ipv6 (network.peer.address and network.peer.port under
// the stable names). Anything that is not an address is skipped.
func setPeerTags(set func(key string, v any), addr string) {
	if addr == "" || len(addr) > 64 {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == '.' || c == ':' || c == '%' || c == '_' || 'g' <= c && c <= 'z') {
			return
		}
	}
	set(semconv.PeerAddress.Key(), addr)
	if strings.IndexByte(host, ':') >= 0 {
		set(semconv.PeerHostIPv6.Key(), host)
	} else {
		set(semconv.PeerHostIPv4.Key(), host)
	}
}

// setUserTags sets the tags of WithTags and the headers WithRecordedHeaders
// names, on server and client spans alike.
func (c *config) setUserTags(sp opentracing.Span, r *http.Request) {
	if c.tags != nil {
		for k, v := range c.tags(r) {
			sp.SetTag(k, v)
		}
	}
	for _, rh := range c.recorded {
		vs := r.Header[rh.canonical]
		if len(vs) == 0 {
			continue
		}
		if c.redacted[rh.canonical] {
			sp.SetTag(rh.tag, redactedValue)
			continue
		}
		v := vs[0]
		if len(vs) > 1 {
			v = strings.Join(vs, ",")
		}
		sp.SetTag(rh.tag, sanitizeText(v, maxHeaderLen))
	}
}

// serveUntraced runs a filtered request: no span, but a flow id in the
// context and on the response.
func (h *handler) serveUntraced(w http.ResponseWriter, r *http.Request) {
	fid := h.cfg.engine.Untraced(r.Header[flowIDHeaderKey])
	w.Header()[flowIDHeaderKey] = []string{fid}
	h.next.ServeHTTP(w, r.WithContext(flowid.ContextWith(r.Context(), fid)))
}

func (h *handler) finish(sp opentracing.Span, st *respState) {
	switch {
	case st.hijacked:
		semconv.HTTPHijacked.Set(sp, true)
	default:
		status := st.status
		if !st.wroteHeader {
			status = http.StatusOK // what net/http sends when the handler wrote nothing
		}
		h.em.Set(sp, semconv.HTTPStatusCode.Key(), status)
		if h.cfg.isError(status, true) {
			semconv.Error.Set(sp, true)
		}
	}
	if st.written > 0 {
		h.em.Set(sp, semconv.HTTPResponseSize.Key(), int(st.written))
	}
	sp.Finish()
}

// isError reports whether status marks a span as failed: WithErrorStatus
// decides, else 500-599 on the server and 400-599 on the client.
func (c *config) isError(status int, server bool) bool {
	if c.errorStatus != nil {
		return c.errorStatus(status)
	}
	return status <= 599 && (status >= 500 || !server && status >= 400)
}

// finishPanic records a handler panic and finishes the span; the caller
// re-panics. http.ErrAbortHandler is the documented way to abort a response
// (httputil.ReverseProxy uses it when a client goes away): it is recorded
// as an "abort" event without a stack and does not mark the span as failed.
func finishPanic(em stability.Emitter, sp opentracing.Span, st *respState, p any) {
	if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		sp.LogFields(semconv.Event.Field("abort"), semconv.Message.Field(err.Error()))
	} else {
		semconv.Error.Set(sp, true)
		sp.LogFields(
			semconv.Event.Field("error"),
			semconv.ErrorKind.Field("panic"),
			semconv.Message.Field(sanitizeText(fmt.Sprint(p), maxPanicLen)),
			semconv.Stack.Field(truncate(string(debug.Stack()), maxStackLen)),
		)
	}
	if st.wroteHeader {
		em.Set(sp, semconv.HTTPStatusCode.Key(), st.status)
	}
	if st.written > 0 {
		em.Set(sp, semconv.HTTPResponseSize.Key(), int(st.written))
	}
	sp.Finish()
}

// respState is what the wrapped ResponseWriter observed of the response
// (see wrapWriter). Handlers write from one goroutine, as net/http
// requires, so no lock is needed.
type respState struct {
	status      int
	written     int64
	wroteHeader bool
	hijacked    bool
	// flowID backs the X-Flow-ID response header's value slice.
	flowID [1]string
}

func (st *respState) header(code int) {
	if !st.wroteHeader && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		st.status, st.wroteHeader = code, true
	}
}

func (st *respState) wrote() {
	if !st.wroteHeader {
		st.status, st.wroteHeader = http.StatusOK, true
	}
}
