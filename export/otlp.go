package export

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/internal/safefile"
)

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
// too large") instead of growing memory (CVE-2026-39882). OTLP responses
// are a few bytes to a few KiB.
const MaxOTLPResponseBytes = 64 << 10

// Request size bounds (uncompressed protobuf bytes of one
// ExportTraceServiceRequest). The default stays below grpc-go's default
// 4 MiB receive limit, which is also the OpenTelemetry Collector's unless
// max_recv_msg_size_mib is raised.
const (
	DefaultMaxRequestBytes = 3 << 20
	MinMaxRequestBytes     = 64 << 10
)

// maxPEMBytes bounds a certificate or key file.
const maxPEMBytes = 1 << 20

// OTLPSettings are the settings of an OTLP transport. Nothing else
// configures it: it reads no environment variable.
type OTLPSettings struct {
	// Protocol is ProtocolGRPC (the default when empty), ProtocolHTTPProtobuf
	// or ProtocolHTTPJSON.
	Protocol string
	// Endpoint is a URL with an http or https scheme. For gRPC only the host
	// and port are used (port 4317 when missing). For HTTP it is the full
	// traces URL; when its path is empty or "/", "/v1/traces" is used. The
	// scheme decides TLS: http means plain text, https means TLS unless
	// Insecure is set.
	Endpoint string
	// Insecure disables TLS even for an https endpoint.
	Insecure bool
	// Headers are sent with every request (gRPC metadata or HTTP headers).
	// They are secrets: never logged.
	Headers map[string]string
	// Timeout bounds one export including retries; <= 0 means
	// DefaultOTLPTimeout.
	Timeout time.Duration
	// Compression is "gzip" or "none" (or "" for none).
	Compression string
	// Certificate is the path of a PEM file with the CA certificates trusted
	// for TLS; empty means the system roots (or TLSConfig's RootCAs).
	Certificate string
	// ClientCertificate and ClientKey are the paths of the PEM client
	// certificate chain and private key for mutual TLS; both or neither.
	ClientCertificate string
	ClientKey         string
	// TLSConfig, when not nil, is the base of the TLS configuration (it is
	// cloned, never changed); Certificate and the client key pair are added
	// to the clone.
	TLSConfig *tls.Config
}

func (s OTLPSettings) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultOTLPTimeout
	}
	return s.Timeout
}

// retry returns the backoff policy: bounded by the export timeout so a
// retrying export never outlives its deadline.
func (s OTLPSettings) retry() retryPolicy {
	t := s.timeout()
	initial := min(time.Second, t/10)
	if initial <= 0 {
		initial = time.Millisecond
	}
	maxInterval := max(min(5*time.Second, t/2), initial)
	return retryPolicy{initial: initial, max: maxInterval}
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
		// url.Parse quotes the whole input, password included.
		return p, errors.New("flowtrace: OTLP endpoint: not a URL")
	}
	shown := redactedURL(u)
	if u.Scheme != "http" && u.Scheme != "https" {
		return p, fmt.Errorf("flowtrace: OTLP endpoint %q: scheme must be http or https", shown)
	}
	if u.Host == "" {
		return p, fmt.Errorf("flowtrace: OTLP endpoint %q: no host", shown)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil && !strings.Contains(err.Error(), "missing port") {
		return p, fmt.Errorf("flowtrace: OTLP endpoint %q: bad host and port", shown)
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
	for k, v := range s.Headers {
		if !validHeaderKey(k) {
			return p, fmt.Errorf("flowtrace: OTLP header %q: invalid name", k)
		}
		if !validHeaderValue(v) {
			// Never show the value: it may be a token.
			return p, fmt.Errorf("flowtrace: OTLP header %q: invalid value (not shown)", k)
		}
	}
	if (s.ClientCertificate == "") != (s.ClientKey == "") {
		return p, errors.New("flowtrace: OTLP client certificate and client key must be given together")
	}
	if !p.insecure {
		p.tls, err = s.tlsConfig()
	}
	return p, err
}

// tlsConfig builds the TLS configuration; it reads certificate files only
// when TLS is used, so an unused path cannot block or exhaust Start.
func (s OTLPSettings) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	if s.Certificate != "" {
		pem, err := readPEMFile("certificate", s.Certificate)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("flowtrace: OTLP certificate %q: no PEM certificates found", s.Certificate)
		}
		cfg.RootCAs = pool
	}
	if s.ClientCertificate != "" {
		certPEM, err := readPEMFile("client certificate", s.ClientCertificate)
		if err != nil {
			return nil, err
		}
		keyPEM, err := readPEMFile("client key", s.ClientKey)
		if err != nil {
			return nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// The error text of X509KeyPair never contains key material.
			return nil, fmt.Errorf("flowtrace: OTLP client certificate %q and key %q: %w", s.ClientCertificate, s.ClientKey, err)
		}
		cfg.Certificates = append(cfg.Certificates[:len(cfg.Certificates):len(cfg.Certificates)], pair)
	}
	return cfg, nil
}

// readPEMFile is the one place the transport reads a file, through
// safefile: a regular file of at most maxPEMBytes, read with a deadline, so
// a FIFO, a device or a huge file named by configuration cannot block or
// exhaust the service.
func readPEMFile(what, path string) ([]byte, error) {
	b, err := safefile.Read(path, maxPEMBytes, safefile.DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("flowtrace: OTLP %s: %w", what, err)
	}
	return b, nil
}

func redactedURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("redacted")
	}
	c.RawQuery, c.Fragment = "", ""
	return c.String()
}

// validHeaderKey: an HTTP token, as gRPC metadata and net/http need it.
func validHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue: printable ASCII and spaces, which both gRPC and HTTP
// accept.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// NewOTLPClient returns the OTLP transport for s.Protocol. Creating it does
// no I/O, so a dead collector cannot block it; the connection is made on
// the first Send.
func NewOTLPClient(s OTLPSettings) (Transport, error) {
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
