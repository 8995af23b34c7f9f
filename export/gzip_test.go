package export

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/stats"

	"github.com/flowtrace/flowtrace/tracer"
)

// batchRequest is one encoded 512-span request, as the exporter sends it.
func batchRequest(tb testing.TB) []byte {
	tr := &captureTransport{}
	e := NewOTLP(tr, testRes)
	spans := make([]*tracer.SpanData, 512)
	for i := range spans {
		spans[i] = mkSpan(i)
	}
	if err := e.Export(context.Background(), spans); err != nil {
		tb.Fatal(err)
	}
	if len(tr.reqs) != 1 {
		tb.Fatalf("%d requests, want 1", len(tr.reqs))
	}
	return tr.reqs[0]
}

// BenchmarkGzip compares, per span of a 512-span request, compress/gzip at
// its default level (what grpc-go's gzip codec uses, and so the OTel SDK)
// with klauspost's gzip at the levels considered for gzipLevel; "ratio" is
// compressed/uncompressed bytes.
func BenchmarkGzip(b *testing.B) {
	req := batchRequest(b)
	run := func(b *testing.B, compress func(w io.Writer, p []byte) error) {
		var out bytes.Buffer
		b.SetBytes(int64(len(req)))
		b.ReportAllocs()
		for b.Loop() {
			out.Reset()
			if err := compress(&out, req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*512), "ns/span")
		b.ReportMetric(float64(out.Len())/float64(len(req)), "ratio")
	}
	b.Run("stdlib-default", func(b *testing.B) {
		zw := stdgzip.NewWriter(io.Discard)
		run(b, func(w io.Writer, p []byte) error {
			zw.Reset(w)
			_, _ = zw.Write(p)
			return zw.Close()
		})
	})
	for _, l := range []struct {
		name  string
		level int
	}{{"klauspost-huffman", kgzip.HuffmanOnly}, {"klauspost-1", kgzip.BestSpeed}, {"klauspost-6", 6}} {
		b.Run(l.name, func(b *testing.B) {
			zw, _ := kgzip.NewWriterLevel(io.Discard, l.level)
			run(b, func(w io.Writer, p []byte) error {
				zw.Reset(w)
				_, _ = zw.Write(p)
				return zw.Close()
			})
		})
	}
}

// recordingGunzip is a server-side decompressor that keeps the compressed
// bytes as they came off the wire, then decodes them with compress/gzip
// (the standard library's reader: the wire format is plain gzip).
type recordingGunzip struct {
	mu   sync.Mutex
	wire [][]byte
}

func (*recordingGunzip) Type() string { return "gzip" }

func (d *recordingGunzip) Do(r io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.wire = append(d.wire, raw)
	d.mu.Unlock()
	zr, err := stdgzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// headerRecorder keeps the compression the server saw and answered with.
type headerRecorder struct {
	mu      sync.Mutex
	in, out []string
}

func (h *headerRecorder) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return ctx
}

func (h *headerRecorder) HandleRPC(_ context.Context, s stats.RPCStats) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch s := s.(type) {
	case *stats.InHeader:
		h.in = append(h.in, s.Compression)
	case *stats.OutHeader:
		h.out = append(h.out, s.Compression)
	}
}

func (h *headerRecorder) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (h *headerRecorder) HandleConn(context.Context, stats.ConnStats) {}

// partialService answers every export with a partial success, so a test
// sees that the (compressed) answer was decoded.
type partialService struct {
	ptraceotlp.UnimplementedGRPCServer
	spans atomic.Int64
}

func (s *partialService) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s.spans.Add(int64(req.Traces().SpanCount()))
	resp := ptraceotlp.NewExportResponse()
	resp.PartialSuccess().SetRejectedSpans(1)
	resp.PartialSuccess().SetErrorMessage("one refused")
	return resp, nil
}

// TestGRPCGzipWire: with Compression gzip, flowtrace's OTLP/gRPC requests
// say grpc-encoding gzip and carry klauspost's gzip of the request (the
// exact bytes gzipTo makes), which the standard library's gzip reader
// decodes; the server's gzip answer is decoded by the connection's own
// decompressor; the process-wide "gzip" compressor is still grpc-go's.
func TestGRPCGzipWire(t *testing.T) {
	before := encoding.GetCompressor("gzip")
	require.NotNil(t, before, "grpc-go's gzip is registered (tracetest imports it)")

	dc := &recordingGunzip{}
	hr := &headerRecorder{}
	//lint:ignore SA1019 the deprecated per-server decompressor is what sees the compressed wire bytes.
	srv := grpc.NewServer(grpc.RPCDecompressor(dc), grpc.StatsHandler(hr))
	svc := &partialService{}
	ptraceotlp.RegisterGRPCServer(srv, svc)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	tr, err := NewOTLPGRPC(OTLPSettings{Endpoint: "http://" + lis.Addr().String(), Compression: "gzip"})
	require.NoError(t, err)
	defer func() { require.NoError(t, tr.Close(context.Background())) }()
	req := batchRequest(t)
	resp, err := tr.Send(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, Response{RejectedSpans: 1, ErrorMessage: "one refused"}, resp, "the gzip answer was decoded")
	require.Equal(t, int64(512), svc.spans.Load())

	var want bytes.Buffer
	require.NoError(t, gzipTo(&want, req))
	dc.mu.Lock()
	require.Len(t, dc.wire, 1)
	require.Equal(t, want.Bytes(), dc.wire[0], "the wire carries klauspost's gzip of the request")
	require.Less(t, len(dc.wire[0]), len(req)/4, "compressed")
	dc.mu.Unlock()
	hr.mu.Lock()
	require.Equal(t, []string{"gzip"}, hr.in, "grpc-encoding: gzip")
	require.Equal(t, []string{"gzip"}, hr.out, "the server answered in gzip")
	hr.mu.Unlock()

	after := encoding.GetCompressor("gzip")
	require.Same(t, before, after)
	require.Equal(t, "google.golang.org/grpc/encoding/gzip", reflect.TypeOf(after).Elem().PkgPath())
}

// TestHTTPGzipWire: OTLP/HTTP bodies are klauspost's gzip with
// Content-Encoding gzip, decoded by the standard library, for protobuf and
// JSON; the body of one request is the same bytes across retries.
func TestHTTPGzipWire(t *testing.T) {
	for _, protocol := range []string{ProtocolHTTPProtobuf, ProtocolHTTPJSON} {
		t.Run(protocol, func(t *testing.T) {
			var mu sync.Mutex
			var bodies [][]byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				raw, err := io.ReadAll(r.Body)
				if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
					http.Error(w, "want a gzip body", http.StatusBadRequest)
					return
				}
				mu.Lock()
				bodies = append(bodies, raw)
				n := len(bodies)
				mu.Unlock()
				if n == 1 {
					http.Error(w, "try again", http.StatusServiceUnavailable)
					return
				}
				w.WriteHeader(http.StatusOK)
			}))
			defer srv.Close()
			// A 2 s timeout makes the first backoff 100-200 ms.
			tr, err := NewOTLPHTTP(OTLPSettings{Protocol: protocol, Endpoint: srv.URL, Compression: "gzip", Timeout: 2 * time.Second})
			require.NoError(t, err)
			defer func() { require.NoError(t, tr.Close(context.Background())) }()
			req := batchRequest(t)
			_, err = tr.Send(context.Background(), req)
			require.NoError(t, err)

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, bodies, 2, "one retry after 503")
			require.Equal(t, bodies[0], bodies[1], "the retry resends the same body")
			zr, err := stdgzip.NewReader(bytes.NewReader(bodies[0]))
			require.NoError(t, err)
			plain, err := io.ReadAll(zr)
			require.NoError(t, err)
			var td ptrace.Traces
			if protocol == ProtocolHTTPJSON {
				td, err = (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(plain)
			} else {
				require.Equal(t, req, plain)
				td, err = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(plain)
			}
			require.NoError(t, err)
			require.Equal(t, 512, td.SpanCount())
			want, err := gzipBytes(plain)
			require.NoError(t, err)
			require.Equal(t, want, bodies[0], "klauspost's gzip")
		})
	}
}

// TestGunzipAnswerBounded: a small gzip answer that expands past
// MaxOTLPResponseBytes (a gzip bomb) fails without being read to the end;
// a corrupt one fails; one at the bound is read.
func TestGunzipAnswerBounded(t *testing.T) {
	bomb, err := gzipBytes(make([]byte, 64<<20))
	require.NoError(t, err)
	require.Less(t, len(bomb), 1<<20)
	_, err = grpcGunzip{}.Do(bytes.NewReader(bomb))
	require.ErrorContains(t, err, "larger than")

	_, err = grpcGunzip{}.Do(strings.NewReader("not gzip"))
	require.Error(t, err)
	trunc, err := gzipBytes(bytes.Repeat([]byte("x"), 1000))
	require.NoError(t, err)
	_, err = grpcGunzip{}.Do(bytes.NewReader(trunc[:len(trunc)-5]))
	require.Error(t, err)

	edge := bytes.Repeat([]byte("ab"), MaxOTLPResponseBytes/2)
	z, err := gzipBytes(edge)
	require.NoError(t, err)
	got, err := grpcGunzip{}.Do(bytes.NewReader(z))
	require.NoError(t, err)
	require.Equal(t, edge, got)
}

// TestGzipConcurrent: pooled writers used from many goroutines at once
// each produce their own input's gzip.
func TestGzipConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				in := bytes.Repeat([]byte{byte(g), byte(i)}, 100*(i+1))
				z, err := gzipBytes(in)
				if err == nil {
					var out []byte
					if out, err = (grpcGunzip{}).Do(bytes.NewReader(z)); err == nil && !bytes.Equal(in, out) {
						err = fmt.Errorf("goroutine %d, input %d: round trip differs", g, i)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// FuzzGzipRoundTrip: any input compresses to gzip that the standard
// library's reader and the connection's own decompressor both return
// unchanged; any input given to the decompressor as an answer errors or
// returns at most MaxOTLPResponseBytes, never panics.
func FuzzGzipRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x0a\x00"))
	f.Add(bytes.Repeat([]byte("span"), 300))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		z, err := gzipBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := stdgzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, data) {
			t.Fatalf("compress/gzip read back %d bytes (%v), want %d", len(plain), err, len(data))
		}
		if len(data) <= MaxOTLPResponseBytes {
			got, err := grpcGunzip{}.Do(bytes.NewReader(z))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("grpcGunzip read back %d bytes (%v), want %d", len(got), err, len(data))
			}
		}
		if got, err := (grpcGunzip{}).Do(bytes.NewReader(data)); err == nil && len(got) > MaxOTLPResponseBytes {
			t.Fatalf("answer of %d bytes accepted", len(got))
		}
	})
}
