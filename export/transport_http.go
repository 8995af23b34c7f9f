package export

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// userAgent names flowtrace to collectors.
var userAgent = "flowtrace-go/" + DefaultScopeVersion

// timeoutFunc derives the context of one Send.
type timeoutFunc func(context.Context) (context.Context, context.CancelFunc)

func deadlineFor(d time.Duration) timeoutFunc {
	return func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, d) }
}

// httpTransport posts requests to an OTLP/HTTP endpoint with net/http.
type httpTransport struct {
	client  *http.Client
	tr      *http.Transport
	url     string
	header  http.Header
	gzip    bool
	json    bool
	retry   retryPolicy
	timeout timeoutFunc
	closed  atomic.Bool
}

var _ Transport = (*httpTransport)(nil)

// NewOTLPHTTP returns an OTLP/HTTP transport for s, encoding JSON when
// s.Protocol is ProtocolHTTPJSON and protobuf otherwise. It has its own
// http.Transport (proxies from the standard HTTP_PROXY variables, as any
// net/http client), whose idle connections Close closes.
func NewOTLPHTTP(s OTLPSettings) (Transport, error) {
	p, err := s.parse()
	if err != nil {
		return nil, err
	}
	u := *p.u
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = p.tls
	t := &httpTransport{
		client:  &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		tr:      tr,
		url:     u.String(),
		header:  make(http.Header, len(s.Headers)+3),
		gzip:    p.gzip,
		json:    s.Protocol == ProtocolHTTPJSON,
		retry:   s.retry(),
		timeout: deadlineFor(s.timeout()),
	}
	for k, v := range s.Headers {
		t.header.Set(k, v)
	}
	t.header.Set("User-Agent", userAgent)
	if t.json {
		t.header.Set("Content-Type", "application/json")
	} else {
		t.header.Set("Content-Type", "application/x-protobuf")
	}
	if t.gzip {
		t.header.Set("Content-Encoding", "gzip")
	}
	return t, nil
}

func (t *httpTransport) Send(ctx context.Context, request []byte) (Response, error) {
	if t.closed.Load() {
		return Response{}, errTransportClosed
	}
	body, err := t.encode(request)
	if err != nil {
		return Response{}, err
	}
	ctx, cancel := t.timeout(ctx)
	defer cancel()
	return t.retry.do(ctx, func(ctx context.Context) attemptResult { return t.attempt(ctx, body) })
}

// encode turns the protobuf request into the wire body: JSON when asked
// (through pdata, whose JSON is OTLP/JSON with hex ids), gzip when asked.
func (t *httpTransport) encode(request []byte) ([]byte, error) {
	body := request
	if t.json {
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(request)
		if err != nil {
			return nil, fmt.Errorf("flowtrace: OTLP/HTTP: decode request: %w", err)
		}
		if body, err = (&ptrace.JSONMarshaler{}).MarshalTraces(td); err != nil {
			return nil, fmt.Errorf("flowtrace: OTLP/HTTP: encode JSON: %w", err)
		}
	}
	if t.gzip {
		var err error
		if body, err = gzipBytes(body); err != nil {
			return nil, fmt.Errorf("flowtrace: OTLP/HTTP: gzip: %w", err)
		}
	}
	return body, nil
}

func (t *httpTransport) attempt(ctx context.Context, body []byte) attemptResult {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: fmt.Errorf("flowtrace: OTLP/HTTP request: %w", err)}
	}
	req.Header = t.header.Clone()
	resp, err := t.client.Do(req)
	if err != nil {
		// url.Error repeats the URL; ours has no credentials (config
		// rejects them in endpoints), but say only what failed.
		err = fmt.Errorf("flowtrace: OTLP/HTTP export: %w", unwrapURLError(err))
		switch {
		case wrote.Load() && ctx.Err() != nil:
			return attemptResult{err: fmt.Errorf("%w: %w", ErrUnconfirmed, err)}
		case wrote.Load():
			// The collector may have the request: a retry could duplicate it.
			return attemptResult{err: err}
		case isCertificateError(err):
			// A certificate the client does not trust will not change.
			return attemptResult{err: err}
		default:
			// Not sent (refused, reset while connecting): safe to retry.
			return attemptResult{err: err, retryable: ctx.Err() == nil}
		}
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxOTLPResponseBytes+1))
	if readErr == nil && len(data) > MaxOTLPResponseBytes {
		readErr = fmt.Errorf("response body too large (more than %d bytes)", MaxOTLPResponseBytes)
	}
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		if readErr != nil {
			// Accepted: the status says so. The partial success, if any,
			// is lost with the body.
			return attemptResult{err: fmt.Errorf("flowtrace: OTLP/HTTP export: status %d but %w", code, readErr)}
		}
		return attemptResult{resp: t.decodeResponse(resp.Header.Get("Content-Type"), data)}
	case code == http.StatusRequestEntityTooLarge:
		return attemptResult{err: fmt.Errorf("%w: status 413%s", ErrRequestTooLarge, statusMessage(data))}
	}
	if readErr != nil {
		return attemptResult{err: fmt.Errorf("flowtrace: OTLP/HTTP export: status %d, %w", code, readErr)}
	}
	err = fmt.Errorf("flowtrace: OTLP/HTTP export: status %d%s", code, statusMessage(data))
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return attemptResult{err: err, retryable: true, delay: retryAfter(resp.Header.Get("Retry-After"))}
	}
	return attemptResult{err: err}
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil && strings.HasPrefix(err.Error(), "Post ") {
			return inner
		}
	}
	return err
}

// decodeResponse reads the partial success of an accepted request; a body
// that is not an ExportTraceServiceResponse counts as plain success.
func (t *httpTransport) decodeResponse(contentType string, data []byte) Response {
	if len(data) == 0 {
		return Response{}
	}
	if strings.Contains(contentType, "json") {
		r := ptraceotlp.NewExportResponse()
		if err := r.UnmarshalJSON(data); err != nil {
			return Response{}
		}
		ps := r.PartialSuccess()
		return Response{RejectedSpans: ps.RejectedSpans(), ErrorMessage: ps.ErrorMessage()}
	}
	var r coltracepb.ExportTraceServiceResponse
	if err := proto.Unmarshal(data, &r); err != nil {
		return Response{}
	}
	ps := r.GetPartialSuccess()
	return Response{RejectedSpans: ps.GetRejectedSpans(), ErrorMessage: ps.GetErrorMessage()}
}

// statusMessage returns ": <message>" from a google.rpc.Status body, or
// from a short plain-text body; empty otherwise.
func statusMessage(data []byte) string {
	var st status.Status
	msg := ""
	if err := proto.Unmarshal(data, &st); err == nil && st.GetMessage() != "" {
		msg = st.GetMessage()
	} else if len(data) > 0 && len(data) <= 512 && !bytes.ContainsFunc(data, func(r rune) bool { return r < ' ' && r != '\t' && r != '\n' }) {
		msg = strings.TrimSpace(string(data))
	}
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(min(s, int(maxServerDelay/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0)
	}
	return 0
}

func (t *httpTransport) Close(context.Context) error {
	t.closed.Store(true)
	t.tr.CloseIdleConnections()
	return nil
}

func isCertificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}
