package export

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc/credentials"

	"github.com/flowtrace/flowtrace/internal/safefile"
	"github.com/flowtrace/flowtrace/tracer"
)

var errExporterShutdown = errors.New("flowtrace: exporter is shut down")

// ExporterOption configures the OTLP and console exporters.
type ExporterOption interface{ applyExporter(*scope) }

type exporterOptionFunc func(*scope)

func (f exporterOptionFunc) applyExporter(s *scope) { f(s) }

type scope struct{ name, version string }

func newScope(opts []ExporterOption) scope {
	s := scope{name: DefaultScopeName, version: DefaultScopeVersion}
	for _, o := range opts {
		if o != nil {
			o.applyExporter(&s)
		}
	}
	return s
}

// WithScope sets the instrumentation scope name and version written into
// every batch (default DefaultScopeName, DefaultScopeVersion).
func WithScope(name, version string) ExporterOption {
	return exporterOptionFunc(func(s *scope) { s.name, s.version = name, version })
}

func cloneAttrs(a []tracer.Attribute) []tracer.Attribute {
	return append([]tracer.Attribute(nil), a...)
}

// OTLPExporter converts spans with ToOTLP and uploads them with an
// otlptrace.Client. The client is started on first use and stopped by
// Shutdown.
type OTLPExporter struct {
	client   otlptrace.Client
	resource []tracer.Attribute
	scope    scope

	mu      sync.Mutex
	started bool
	stopped bool

	// convMu serialises Export: the converter's objects are reused by the
	// next batch once UploadTraces has returned (both OTLP clients marshal
	// before they return, retries included).
	convMu sync.Mutex
	conv   Converter
}

var _ Exporter = (*OTLPExporter)(nil)

// NewOTLP returns an exporter uploading through client (for example from
// NewOTLPClient, or otlptracegrpc.NewClient) with the given resource
// attributes. It does not start the client: both OTLP clients start without
// I/O, and Export starts it on first use.
func NewOTLP(client otlptrace.Client, resource []tracer.Attribute, opts ...ExporterOption) *OTLPExporter {
	return &OTLPExporter{client: client, resource: cloneAttrs(resource), scope: newScope(opts)}
}

func (e *OTLPExporter) start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return errExporterShutdown
	}
	if e.started {
		return nil
	}
	if err := e.client.Start(ctx); err != nil {
		return fmt.Errorf("flowtrace: start OTLP client: %w", err)
	}
	e.started = true
	return nil
}

// Export converts and uploads spans. It returns the client's error, which
// includes retries the client made within its timeout, except that an OTLP
// partial success (the clients return it as an error from UploadTraces) is
// returned as a *RejectedError, so the Batcher counts the rejected spans as
// DroppedRejected and the rest as Exported.
func (e *OTLPExporter) Export(ctx context.Context, spans []*tracer.SpanData) error {
	if err := e.start(ctx); err != nil {
		return err
	}
	e.convMu.Lock()
	defer e.convMu.Unlock()
	rs := e.conv.Convert(e.resource, e.scope.name, e.scope.version, spans)
	if rs == nil {
		return nil
	}
	err := e.client.UploadTraces(ctx, rs)
	if n, msg, ok := AsPartialSuccess(err); ok {
		return &RejectedError{Rejected: n, Message: msg}
	}
	return err
}

// Shutdown stops the client, if it was started. Later Exports fail.
func (e *OTLPExporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	e.stopped = true
	if !e.started {
		return nil
	}
	return e.client.Stop(ctx)
}

// OTLP protocols accepted in OTLPSettings.Protocol.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolHTTPJSON     = "http/json"
)

// DefaultOTLPTimeout bounds one export, retries included.
const DefaultOTLPTimeout = 10 * time.Second

// MaxOTLPResponseBytes bounds how much of an OTLP/HTTP response body is
// read, success or error. A larger body fails the export ("response body
// too large") instead of growing memory (CVE-2026-39882). otlptracehttp
// v1.47.0 already defaults to 4 MiB; flowtrace pins a smaller bound so an
// upgrade cannot loosen it. OTLP responses are a few bytes to a few KiB.
const MaxOTLPResponseBytes = 64 << 10

// OTLPSettings are explicit settings for an OTLP client. The clients from
// go.opentelemetry.io/otel also read OTEL_EXPORTER_OTLP_* themselves; every
// setting given here takes precedence over the environment, and settings
// left empty may be filled from it (endpoint, headers, compression,
// certificate, timeout).
type OTLPSettings struct {
	// Protocol is ProtocolGRPC (the default when empty), ProtocolHTTPProtobuf
	// or ProtocolHTTPJSON.
	Protocol string
	// Endpoint is a URL with an http or https scheme. For gRPC only the host
	// and port are used. For HTTP it is the full traces URL; when its path is
	// empty or "/", "/v1/traces" is used. The scheme decides TLS: http means
	// plain text, https means TLS unless Insecure is set.
	Endpoint string
	// Insecure disables TLS even for an https endpoint.
	Insecure bool
	// Headers are sent with every request (gRPC metadata or HTTP headers).
	Headers map[string]string
	// Timeout bounds one export including retries; <= 0 means
	// DefaultOTLPTimeout.
	Timeout time.Duration
	// Compression is "gzip" or "none" (or "" for none).
	Compression string
	// Certificate is the path of a PEM file with the CA certificates trusted
	// for TLS; empty means the system roots.
	Certificate string
}

func (s OTLPSettings) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultOTLPTimeout
	}
	return s.Timeout
}

// retryConfig enables the client's retries with backoff, bounded by the
// export timeout so a retrying export never outlives its deadline.
func (s OTLPSettings) retryConfig() (initial, maxInterval, maxElapsed time.Duration) {
	t := s.timeout()
	initial = min(time.Second, t/10)
	if initial <= 0 {
		initial = time.Millisecond
	}
	maxInterval = min(5*time.Second, t/2)
	if maxInterval < initial {
		maxInterval = initial
	}
	return initial, maxInterval, t
}

// parsed is the validated part of OTLPSettings.
type parsed struct {
	u        *url.URL
	insecure bool
	gzip     bool
	tls      *tls.Config
}

func (s OTLPSettings) parse() (parsed, error) {
	var p parsed
	if s.Endpoint == "" {
		return p, errors.New("flowtrace: OTLP endpoint is empty")
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return p, fmt.Errorf("flowtrace: OTLP endpoint %q: %w", s.Endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return p, fmt.Errorf("flowtrace: OTLP endpoint %q: scheme must be http or https", s.Endpoint)
	}
	if u.Host == "" {
		return p, fmt.Errorf("flowtrace: OTLP endpoint %q: no host", s.Endpoint)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil && !strings.Contains(err.Error(), "missing port") {
		return p, fmt.Errorf("flowtrace: OTLP endpoint %q: %w", s.Endpoint, err)
	}
	p.u = u
	p.insecure = s.Insecure || u.Scheme == "http"

	switch strings.ToLower(s.Compression) {
	case "", "none":
	case "gzip":
		p.gzip = true
	default:
		return p, fmt.Errorf("flowtrace: OTLP compression %q: want gzip or none", s.Compression)
	}

	if s.Certificate != "" && !p.insecure {
		pem, err := safefile.Read(s.Certificate, maxCertificateFileSize, safefile.DefaultTimeout)
		if err != nil {
			return p, fmt.Errorf("flowtrace: OTLP certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return p, fmt.Errorf("flowtrace: OTLP certificate %q: no PEM certificates found", s.Certificate)
		}
		p.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return p, nil
}

// maxCertificateFileSize bounds a PEM file of CA certificates (a full
// public CA bundle is about 200 KB). The file is read with safefile: a FIFO
// or device named as certificate is an error, never a hang or an unbounded
// read.
const maxCertificateFileSize = 1 << 20

// NewOTLPClient returns the OTLP client for s.Protocol. Creating and starting
// it does no I/O, so a dead collector cannot block it.
func NewOTLPClient(s OTLPSettings) (otlptrace.Client, error) {
	switch s.Protocol {
	case "", ProtocolGRPC:
		return NewOTLPGRPC(s)
	case ProtocolHTTPProtobuf, ProtocolHTTPJSON:
		return NewOTLPHTTP(s)
	default:
		return nil, fmt.Errorf("flowtrace: OTLP protocol %q: want %s, %s or %s",
			s.Protocol, ProtocolGRPC, ProtocolHTTPProtobuf, ProtocolHTTPJSON)
	}
}

// NewOTLPGRPC returns an OTLP/gRPC client (otlptracegrpc) for s; s.Protocol
// is ignored. The connection is made lazily on first export.
func NewOTLPGRPC(s OTLPSettings) (otlptrace.Client, error) {
	p, err := s.parse()
	if err != nil {
		return nil, err
	}
	initial, maxInterval, maxElapsed := s.retryConfig()
	opts := []otlptracegrpc.Option{
		otlptracegrpc.WithEndpoint(p.u.Host),
		otlptracegrpc.WithTimeout(s.timeout()),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{
			Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: maxElapsed,
		}),
	}
	if p.insecure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	} else {
		cfg := p.tls
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(cfg)))
	}
	if len(s.Headers) > 0 {
		opts = append(opts, otlptracegrpc.WithHeaders(s.Headers))
	}
	// No compressor option means none: the client knows no name for "none"
	// that it does not also log as invalid.
	if p.gzip {
		opts = append(opts, otlptracegrpc.WithCompressor("gzip"))
	}
	return otlptracegrpc.NewClient(opts...), nil
}

// NewOTLPHTTP returns an OTLP/HTTP client (otlptracehttp) for s, encoding
// JSON when s.Protocol is ProtocolHTTPJSON and protobuf otherwise. It uses
// its own http.Transport, whose idle connections are closed by Stop.
func NewOTLPHTTP(s OTLPSettings) (otlptrace.Client, error) {
	p, err := s.parse()
	if err != nil {
		return nil, err
	}
	path := p.u.Path
	if path == "" || path == "/" {
		path = "/v1/traces"
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if p.tls != nil {
		transport.TLSClientConfig = p.tls
	}
	initial, maxInterval, maxElapsed := s.retryConfig()
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpoint(p.u.Host),
		otlptracehttp.WithURLPath(path),
		otlptracehttp.WithTimeout(s.timeout()),
		otlptracehttp.WithHTTPClient(&http.Client{Transport: transport, Timeout: s.timeout()}),
		otlptracehttp.WithMaxResponseSize(MaxOTLPResponseBytes),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{
			Enabled: true, InitialInterval: initial, MaxInterval: maxInterval, MaxElapsedTime: maxElapsed,
		}),
	}
	if p.insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	if len(s.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(s.Headers))
	}
	if p.gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	} else {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
	}
	if s.Protocol == ProtocolHTTPJSON {
		opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	}
	return &httpClient{Client: otlptracehttp.NewClient(opts...), transport: transport}, nil
}

// httpClient closes its transport's idle connections on Stop, which
// otlptracehttp's client does not do.
type httpClient struct {
	otlptrace.Client
	transport *http.Transport
}

func (c *httpClient) UploadTraces(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	return c.Client.UploadTraces(ctx, rs)
}

func (c *httpClient) Stop(ctx context.Context) error {
	err := c.Client.Stop(ctx)
	c.transport.CloseIdleConnections()
	return err
}
