package flowtrace

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/config"
)

// collector is an OTLP receiver of our own: grpc-go with its defaults (the
// 4 MiB receive limit most collectors keep) and net/http, optionally over
// TLS that requires a client certificate.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans int
	reqs  int
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs++
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans += len(ss.Spans)
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 20<<20))
	var req coltracepb.ExportTraceServiceRequest
	if err != nil || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	_, _ = c.Export(r.Context(), &req)
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (c *collector) received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spans
}

// serve starts c on 127.0.0.1 over gRPC and HTTP (TLS when tlsCfg is set).
func (c *collector) serve(t *testing.T, tlsCfg *tls.Config) (grpcEndpoint, httpEndpoint string) {
	t.Helper()
	var opts []grpc.ServerOption
	scheme := "http"
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
		scheme = "https"
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer(opts...)
	coltracepb.RegisterTraceServiceServer(gs, c)
	go func() { _ = gs.Serve(gl) }()
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if tlsCfg != nil {
		hl = tls.NewListener(hl, tlsCfg)
	}
	hs := &http.Server{Handler: c, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	go func() { _ = hs.Serve(hl) }()
	t.Cleanup(func() {
		gs.Stop()
		_ = hs.Close()
	})
	return scheme + "://" + gl.Addr().String(), scheme + "://" + hl.Addr().String() + "/v1/traces"
}

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type pki struct {
	caFile, certFile, keyFile string
	server                    tls.Certificate
	pool                      *x509.CertPool
	client                    tls.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flowtrace test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, []byte, tls.Certificate) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprint("leaf ", serial)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		keyDER, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		require.NoError(t, err)
		return certPEM, keyPEM, pair
	}
	_, _, server := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	certPEM, keyPEM, client := issue(3, x509.ExtKeyUsageClientAuth, nil)
	p := pki{
		caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "client.pem"), keyFile: filepath.Join(dir, "client.key"),
		server: server, pool: x509.NewCertPool(), client: client,
	}
	p.pool.AddCert(ca)
	require.NoError(t, os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	require.NoError(t, os.WriteFile(p.certFile, certPEM, 0o600))
	require.NoError(t, os.WriteFile(p.keyFile, keyPEM, 0o600))
	return p
}

// TestMutualTLS: a collector that requires client certificates, over gRPC
// and HTTP. On 030e853 OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE / CLIENT_KEY
// were ignored (the receiver logged "tls: client didn't provide a
// certificate") and there was no option for a *tls.Config.
func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	c := &collector{}
	g, h := c.serve(t, &tls.Config{
		Certificates: []tls.Certificate{p.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool,
		MinVersion: tls.VersionTLS12,
	})
	for _, tc := range []struct {
		name      string
		env       map[string]string
		opts      []config.Option
		delivered bool
	}{
		{"no client certificate", map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": p.caFile}, nil, false},
		{"environment", map[string]string{
			"OTEL_EXPORTER_OTLP_CERTIFICATE": p.caFile, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": p.certFile, "OTEL_EXPORTER_OTLP_CLIENT_KEY": p.keyFile,
		}, nil, true},
		{"traces environment", map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": p.caFile, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": p.certFile, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": p.keyFile,
		}, nil, true},
		{"WithTLSConfig", nil, []config.Option{config.WithTLSConfig(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}, MinVersion: tls.VersionTLS12})}, true},
		{"WithTLSConfig plus the CA from the environment", map[string]string{"OTEL_EXPORTER_OTLP_CERTIFICATE": p.caFile},
			[]config.Option{config.WithTLSConfig(&tls.Config{Certificates: []tls.Certificate{p.client}, MinVersion: tls.VersionTLS12})}, true},
	} {
		for _, protocol := range []string{config.ProtocolGRPC, config.ProtocolHTTPProtobuf} {
			t.Run(tc.name+"/"+protocol, func(t *testing.T) {
				endpoint := g
				if protocol != config.ProtocolGRPC {
					endpoint = h
				}
				env := map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "1000", "OTEL_BSP_EXPORT_TIMEOUT": "1000"}
				for k, v := range tc.env {
					env[k] = v
				}
				before := c.received()
				tracing, out := startCaptured(t, env, append(tc.opts, config.WithEndpoint(endpoint), config.WithProtocol(protocol))...)
				require.NotContains(t, out, "warning", out)
				const n = 20
				for range n {
					tracing.Tracer().StartSpan("mtls").Finish()
				}
				_ = shutdown(t, tracing, 5*time.Second)
				st := tracing.Stats().Export
				require.Equal(t, int64(n), st.Exported+st.Dropped()+st.Unconfirmed, "finished = exported + dropped + unconfirmed")
				if tc.delivered {
					require.Equal(t, int64(n), st.Exported, "%+v", st)
					require.Equal(t, before+n, c.received())
					return
				}
				require.Zero(t, st.Exported)
				require.Equal(t, int64(n), st.DroppedExportFailed+st.DroppedAtShutdown, "%+v", st)
				require.Equal(t, before, c.received())
			})
		}
	}
}

// TestRealisticSizesAgainstDefaultGRPCLimit is the issue's "Done when":
// spans with tags up to the value limit, children of a caller that sent a
// valid 32-member tracestate, at a fixed rate well below the queue's
// capacity, against a healthy gRPC collector with grpc-go's default 4 MiB
// limit: nothing fails or is rejected, and received + counted drops =
// finished. On 030e853 every full batch was refused (export_failed).
func TestRealisticSizesAgainstDefaultGRPCLimit(t *testing.T) {
	c := &collector{}
	g, _ := c.serve(t, nil)
	tracing, _ := startCaptured(t, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "200"}, config.WithEndpoint(g))
	tr := tracing.Tracer()
	members := make([]string, 32)
	for i := range members {
		members[i] = fmt.Sprintf("vendor%02d=%s", i, strings.Repeat("v", 14))
	}
	carrier := opentracing.HTTPHeadersCarrier{
		"Traceparent": []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		"Tracestate":  []string{strings.Join(members, ",")},
	}
	parent, err := tr.Extract(opentracing.HTTPHeaders, carrier)
	require.NoError(t, err)
	value := strings.Repeat("x", tracing.Config().AttributeValueLengthLimit)
	// 3,000 spans of ~9 KB, 100 every 10 ms: about 1 MB/s, far below the
	// queue's 2048 spans / 8 MiB per schedule delay.
	const n, perTick = 3000, 100
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < n; i += perTick {
		<-tick.C
		for range perTick {
			s := tr.StartSpan("GET /checkout", opentracing.ChildOf(parent))
			s.SetTag("http.request.header.cookie_hash", value)
			s.SetTag("db.statement", value)
			s.Finish()
		}
	}
	require.NoError(t, shutdown(t, tracing, 20*time.Second))
	st := tracing.Stats()
	t.Logf("finished=%d exported=%d received=%d dropped=%d (queue full %d) unconfirmed=%d trimmed=%d",
		st.Tracer.Finished, st.Export.Exported, c.received(), st.Export.Dropped(), st.Export.DroppedQueueFull, st.Export.Unconfirmed, st.Export.Trimmed)
	require.Equal(t, uint64(n), st.Tracer.Finished)
	require.Zero(t, st.Export.DroppedExportFailed, "export_failed")
	require.Zero(t, st.Export.DroppedRejected, "rejected")
	require.Equal(t, int64(n), int64(c.received())+st.Export.Dropped(), "received + counted drops = finished")
	require.Equal(t, int64(n), st.Export.Exported+st.Export.Dropped()+st.Export.Unconfirmed)
}
