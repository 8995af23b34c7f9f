// Package tracehttp traces net/http servers and clients through the
// OpenTracing API, so it works with any OpenTracing tracer; with flowtrace's
// tracer it also gets links for untrusted callers.
//
// One line wraps a handler or a client:
//
//	http.ListenAndServe(addr, tracehttp.NewHandler(mux))
//	client := tracehttp.WrapClient(http.DefaultClient)
//
// # Server
//
// [NewHandler] extracts the trace context (HTTPHeaders format), starts a
// server span, and puts the span (opentracing.ContextWithSpan) and the flow
// id (flowid.ContextWith) in the request's context. The response carries
// X-Flow-ID, set before the handler runs.
//
// Span names are "METHOD route" and never contain the raw path; methods
// outside RFC 9110 and PATCH become "_OTHER" (CVE-2023-45142). The route
// comes, in order, from [WithRoute]; from the pattern the request already
// matched when it reaches the middleware (a handler wrapped per route in a
// ServeMux); from mux.Handler(r) when the wrapped handler is an
// *http.ServeMux (one extra route lookup per request). In those cases the
// sampler sees the full name. Otherwise the span starts as "METHOD" — so
// per-operation sampling keys on the method only — and is renamed at the end
// from r.Pattern of the request the middleware handed on; a middleware
// between this one and the ServeMux that copies the request
// (r.WithContext) hides the pattern, and the name stays "METHOD".
// A CONNECT request that a ServeMux answers with a trailing-slash redirect
// gets the name "CONNECT" and no http.route: for CONNECT, the mux reports
// the redirect target (the request's own path plus "/") as the pattern.
//
// Tags (semconv keys, set through its generated helpers): span.kind=server,
// component=net/http, http.method (and http.method_original for _OTHER,
// sanitised), http.url (escaped path only: never the query string),
// http.route, http.scheme (from the connection, not from X-Forwarded-Proto),
// http.host (only when it looks like a host name), user_agent (256 bytes,
// control characters replaced), http.request_content_length, peer.address,
// peer.ipv4 or peer.ipv6, http.status_code, http.response_size, and
// http.hijacked when the handler took over the connection. These are the
// legacy names; OTEL_SEMCONV_STABILITY_OPT_IN=http (read when the handler
// is built) emits OpenTelemetry's stable ones instead (the mapping is
// package semconv/stability's; only they add url.query, every value
// REDACTED), http/dup both. Status 500-599
// marks the span as failed ([WithErrorStatus] changes that). With
// flowtrace's tracer, an unsampled request gets no tags and an unwrapped
// ResponseWriter.
//
// The ResponseWriter is wrapped with github.com/felixge/httpsnoop, which
// keeps exactly the optional interfaces of the original (http.Flusher,
// http.Hijacker, io.ReaderFrom, http.Pusher, io.StringWriter, deadlines,
// full duplex) and Unwrap for http.ResponseController.
//
// A panic in the handler marks the span as failed, adds an "error" event
// with the panic value (1 KiB) and the stack (4 KiB), finishes the span and
// panics again with the same value, so net/http (or an outer recoverer)
// sees it unchanged. http.ErrAbortHandler is how a handler, or
// httputil.ReverseProxy when the client goes away, aborts a response on
// purpose: it is recorded as an "abort" event without stack and does not
// mark the span as failed; it is re-panicked too.
//
// # Flow id, trust boundary, critical operations and traffic source
//
// The flow id (X-Flow-ID), [WithPublicEndpoint] (its link is
// [tracer.LinkTo]), [WithCriticalOperation], [WithCriticalSampling],
// [WithTrafficSource] and [DefaultTrafficSource] follow the rules of package
// middleware, the same for tracegrpc and tracekafka.
//
// # Client
//
// [NewTransport] and [WrapClient] start a client span per request, child of
// the span in the request's context, or a new root when there is none (the
// OpenTracing convention). The trace context and flow id are injected into
// a copy of the request with its own headers: the caller's request is never
// changed, so a retried request does not pile up headers. The span ends when
// the response body reaches EOF, fails or is closed — exactly once, whichever
// comes first — or when RoundTrip fails; a body that is never closed leaves
// the span open as it leaves the connection open. http.Client calls
// RoundTrip once per redirect hop, so every hop is a span of its own
// (siblings under the caller's span). A 101 Switching Protocols response ends
// the span at once and leaves the body (the upgraded connection) untouched.
// Tags: span.kind=client, component, http.method, http.url
// (scheme://host/path: no user info, no query string, no fragment),
// peer.hostname, peer.port, http.status_code, http.response_size (or their
// stable names); 400-599 and transport errors mark the span as failed.
//
// # Secrets
//
// No header is recorded unless named in [WithRecordedHeaders]; even then
// Authorization, Cookie, Set-Cookie, Proxy-Authorization and the names given
// to [WithRedactedHeaders] are recorded as "[REDACTED]". Query strings are
// never recorded, and transport error messages lose the URL that
// *url.Error adds.
//
// The package reads no environment variables. It starts no goroutines.
package tracehttp
