package tracehttp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/felixge/httpsnoop"
	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"

	"github.com/flowtrace/flowtrace/middleware/internal/edge"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
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
	mux   *http.ServeMux // next, when it is a ServeMux
	cfg   *config
	names nameCache
}

// NewHandler returns h wrapped so that every request gets a server span, a
// flow id in its context and an X-Flow-ID response header. A nil h means
// http.DefaultServeMux, as in http.Server.
//
// The span is named "METHOD route". The route comes from WithRoute; else,
// when h is an *http.ServeMux (or the request already matched a pattern
// when it reaches the middleware), from the matching pattern before the
// span starts; else from the Pattern the request carries after h returns,
// in which case the span starts as "METHOD" and samplers see only the
// method.
func NewHandler(h http.Handler, opts ...Option) http.Handler {
	if h == nil {
		h = http.DefaultServeMux
	}
	hd := &handler{next: h, cfg: newConfig(opts)}
	hd.mux, _ = h.(*http.ServeMux)
	return hd
}

// spanName returns the name for method index mi and route names rn (nil:
// route unknown).
func (h *handler) spanName(mi int, rn *routeNames, r *http.Request) string {
	if h.cfg.nameFormatter != nil {
		route := ""
		if rn != nil {
			route = rn.route
		}
		return h.cfg.nameFormatter(methodName(mi), route, r)
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
		if route := h.cfg.route(r); route != "" {
			return h.names.forRoute(route)
		}
		return nil
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
	tr := cfg.tracerOrGlobal()
	_, isFlowtrace := tr.(*tracer.Tracer)

	mi := methodIndex(r.Method)
	rn := h.routeAtStart(r)

	incoming, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(r.Header))
	if err != nil {
		incoming = nil
	}
	// Critical operation and traffic source are decided before the span
	// starts, so that a critical request can force sampling.
	var routing edge.Decision
	if cfg.public || cfg.critical != nil || cfg.traffic != nil {
		routing = h.routingRules(r).Decide(incoming)
	}
	var opts [2]opentracing.StartSpanOption
	n := 0
	switch {
	case incoming == nil:
	case cfg.public:
		opts[n] = tracer.LinkTo(incoming)
		n++
	default:
		opts[n] = opentracing.ChildOf(incoming)
		n++
	}
	if routing.Force {
		opts[n] = edge.ForceSampling
		n++
	}
	sp := tr.StartSpan(h.spanName(mi, rn, r), opts[:n]...)
	rec := isRecording(sp)
	if rec {
		ext.SpanKindRPCServer.Set(sp)
		semconv.Component.Set(sp, componentName)
		h.setRequestTags(sp, r, mi, rn)
	}

	fid := serverFlowID(sp, r.Header[flowIDHeaderKey], cfg.public, isFlowtrace)
	routing.Own.Apply(sp)
	if rec && !cfg.public {
		// Inherited values: flowtrace's tracer tags its baggage itself,
		// other tracers need the tags.
		edge.TagFromBaggage(sp)
	}
	if rec && cfg.tags != nil {
		for k, v := range cfg.tags(r) {
			sp.SetTag(k, v)
		}
	}
	if rec && len(cfg.recorded) > 0 {
		recordHeaders(sp, cfg, r.Header)
	}

	w.Header()[flowIDHeaderKey] = []string{fid}
	ctx := opentracing.ContextWithSpan(r.Context(), sp)
	if sp.BaggageItem(flowid.BaggageKey) != fid {
		// flowid.FromContext reads the span's baggage; only a tracer
		// without baggage (the no-op one) needs the id in the context too.
		ctx = flowid.ContextWith(ctx, fid)
	}
	r2 := r.WithContext(ctx)

	if !rec {
		// Nothing to record: hand the writer on untouched. The span still
		// carries trace context and baggage for outgoing calls.
		defer sp.Finish()
		h.next.ServeHTTP(w, r2)
		return
	}
	ww, st := wrapWriter(w)
	defer func() {
		if p := recover(); p != nil {
			finishPanic(sp, st, p)
			panic(p)
		}
	}()
	h.next.ServeHTTP(ww, r2)

	if rn == nil && r2.Pattern != "" && !redirectPattern(r2, r2.Pattern) {
		rn = h.names.forPattern(r2.Pattern)
		sp.SetOperationName(h.spanName(mi, rn, r2))
		if rn.route != "" {
			semconv.HTTPRoute.Set(sp, rn.route)
		}
	}
	h.finish(sp, st)
}

// routingRules returns the critical-operation and traffic-source rules for
// r; the rule functions run only when Decide needs them.
func (h *handler) routingRules(r *http.Request) *edge.Rules {
	cfg := h.cfg
	rules := &edge.Rules{Public: cfg.public, Limit: cfg.criticalLimit}
	if cfg.critical != nil {
		rules.Critical = func() string { return cfg.critical(r) }
	}
	switch {
	case cfg.traffic != nil:
		rules.Traffic = func() string { return cfg.traffic(r) }
	case cfg.public:
		rules.Traffic = func() string { return DefaultTrafficSource(r) }
	}
	return rules
}

// isRecording reports whether tags set on sp are kept: false for
// flowtrace's unsampled spans, true for any other tracer's.
func isRecording(sp opentracing.Span) bool {
	if sc, ok := sp.Context().(*tracer.SpanContext); ok {
		return sc.IsSampled()
	}
	return true
}

// setRequestTags records what the request says about itself, bounded and
// without the query string.
func (h *handler) setRequestTags(sp opentracing.Span, r *http.Request, mi int, rn *routeNames) {
	semconv.HTTPMethod.Set(sp, methodName(mi))
	if mi == len(knownMethods) {
		semconv.HTTPMethodOriginal.Set(sp, sanitizeText(r.Method, maxMethodLen))
	}
	if r.URL != nil {
		semconv.HTTPURL.Set(sp, truncate(r.URL.EscapedPath(), maxPathLen))
	}
	if rn != nil && rn.route != "" {
		semconv.HTTPRoute.Set(sp, rn.route)
	}
	if r.TLS != nil {
		semconv.HTTPScheme.Set(sp, semconv.HTTPSchemeHTTPS)
	} else {
		semconv.HTTPScheme.Set(sp, semconv.HTTPSchemeHTTP)
	}
	if host, ok := sanitizeHost(r.Host); ok {
		semconv.HTTPHost.Set(sp, host)
	}
	if ua := r.Header["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		semconv.UserAgent.Set(sp, sanitizeText(ua[0], maxUserAgentLen))
	}
	if r.ContentLength > 0 {
		semconv.HTTPRequestContentLength.Set(sp, int(r.ContentLength))
	}
	setPeerTags(sp, r.RemoteAddr)
}

// setPeerTags records the remote address "ip:port" as peer.address and
// peer.ipv4 or peer.ipv6. Anything that is not an address is skipped.
func setPeerTags(sp opentracing.Span, addr string) {
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
	semconv.PeerAddress.Set(sp, addr)
	if strings.IndexByte(host, ':') >= 0 {
		semconv.PeerHostIPv6.Set(sp, host)
	} else {
		semconv.PeerHostIPv4.Set(sp, host)
	}
}

// serverFlowID decides the flow id of a server request and puts it in the
// span's baggage. The incoming X-Flow-ID header (exactly one valid field
// line) wins, then a valid flow_id baggage item that came with the trace
// context, else a new id. An invalid incoming value is recorded, sanitised,
// as flow_id.replaced. A public endpoint ignores incoming values.
//
// flowtrace's tracer with the flowid propagator has already moved a valid
// header into baggage; with other tracers (or a flowtrace tracer configured
// without that propagator) the header is handled here, so the outcome is
// the same for every tracer.
func serverFlowID(sp opentracing.Span, hdr []string, public, isFlowtrace bool) string {
	var fid, replaced string
	hdrValid := len(hdr) == 1 && flowid.Valid(hdr[0])
	bag := sp.BaggageItem(flowid.BaggageKey)
	switch {
	case public:
		if hdrValid {
			semconv.FlowIDIncoming.Set(sp, hdr[0])
		} else if len(hdr) > 0 {
			replaced = hdr[0]
		}
		bag = "" // the span is a new root: it has no incoming baggage
	case hdrValid:
		fid = hdr[0]
	default:
		if len(hdr) > 0 {
			replaced = hdr[0] // invalid, or several field lines
		}
		if flowid.Valid(bag) {
			fid = bag
		} else if replaced == "" {
			replaced = bag
		}
	}
	if fid == "" {
		fid = flowid.New()
	}
	if bag != fid {
		sp.SetBaggageItem(flowid.BaggageKey, fid)
	}
	if !isFlowtrace {
		// flowtrace's tracer tags its flow_id baggage item itself.
		semconv.FlowID.Set(sp, fid)
	}
	if replaced != "" {
		semconv.FlowIDReplaced.Set(sp, flowid.Sanitize(replaced))
	}
	return fid
}

func recordHeaders(sp opentracing.Span, cfg *config, h http.Header) {
	for _, rh := range cfg.recorded {
		vs := h[rh.canonical]
		if len(vs) == 0 {
			continue
		}
		if cfg.redacted[rh.canonical] {
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
	var fid string
	if hdr := r.Header[flowIDHeaderKey]; !h.cfg.public && len(hdr) == 1 && flowid.Valid(hdr[0]) {
		fid = hdr[0]
	} else {
		fid = flowid.New()
	}
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
		semconv.HTTPStatusCode.Set(sp, status)
		if h.errorStatus(status) {
			semconv.Error.Set(sp, true)
		}
	}
	if st.written > 0 {
		semconv.HTTPResponseSize.Set(sp, int(st.written))
	}
	sp.Finish()
}

func (h *handler) errorStatus(status int) bool {
	if h.cfg.errorStatus != nil {
		return h.cfg.errorStatus(status)
	}
	return status >= 500 && status <= 599
}

// finishPanic records a handler panic and finishes the span; the caller
// re-panics. http.ErrAbortHandler is the documented way to abort a response
// (httputil.ReverseProxy uses it when a client goes away): it is recorded
// as an "abort" event without a stack and does not mark the span as failed.
func finishPanic(sp opentracing.Span, st *respState, p any) {
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
		semconv.HTTPStatusCode.Set(sp, st.status)
	}
	if st.written > 0 {
		semconv.HTTPResponseSize.Set(sp, int(st.written))
	}
	sp.Finish()
}

// respState observes the response through httpsnoop, which keeps every
// optional interface of the wrapped writer (Flusher, Hijacker, ReaderFrom,
// Pusher, StringWriter, deadlines, full duplex) and exposes Unwrap for
// http.ResponseController. Handlers write from one goroutine, as net/http
// requires, so no lock is needed.
type respState struct {
	status      int
	written     int64
	wroteHeader bool
	hijacked    bool
}

func (st *respState) wrap(w http.ResponseWriter) http.ResponseWriter {
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) {
				st.header(code)
				next(code)
			}
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) {
				st.wrote()
				n, err := next(b)
				st.written += int64(n)
				return n, err
			}
		},
		WriteString: func(next httpsnoop.WriteStringFunc) httpsnoop.WriteStringFunc {
			return func(s string) (int, error) {
				st.wrote()
				n, err := next(s)
				st.written += int64(n)
				return n, err
			}
		},
		ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
			return func(src io.Reader) (int64, error) {
				st.wrote()
				n, err := next(src)
				st.written += n
				return n, err
			}
		},
		Hijack: func(next httpsnoop.HijackFunc) httpsnoop.HijackFunc {
			return func() (net.Conn, *bufio.ReadWriter, error) {
				c, rw, err := next()
				if err == nil {
					st.hijacked = true
				}
				return c, rw, err
			}
		},
	})
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
