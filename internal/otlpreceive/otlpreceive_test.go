package otlpreceive

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func request(spans int) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range spans {
		s := ss.Spans().AppendEmpty()
		s.SetName(strings.Repeat("x", i+1))
		s.SetTraceID([16]byte{1})
		s.SetSpanID([8]byte{byte(i + 1)})
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// handler rejects the first span of each request as a partial success,
// refuses requests of exactly 3 spans, and counts what it refuses.
func handler(maxBytes int) (*Handler, *atomic.Int64, *atomic.Int64) {
	var tooLarge, undecodable atomic.Int64
	h := &Handler{
		MaxRequestBytes: maxBytes,
		Accept: func(_ context.Context, td ptrace.Traces) (PartialSuccess, error) {
			switch td.SpanCount() {
			case 3:
				return PartialSuccess{}, errors.New("three is refused")
			case 0:
				return PartialSuccess{}, nil
			}
			return PartialSuccess{RejectedSpans: 1, Message: "first dropped"}, nil
		},
		TooLarge:    func() { tooLarge.Add(1) },
		Undecodable: func() { undecodable.Add(1) },
	}
	return h, &tooLarge, &undecodable
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func TestHTTP(t *testing.T) {
	h, tooLarge, undecodable := handler(4 << 10)
	srv := httptest.NewServer(h)
	defer srv.Close()
	proto, err := request(2).MarshalProto()
	require.NoError(t, err)
	jsonBody, err := request(2).MarshalJSON()
	require.NoError(t, err)
	three, err := request(3).MarshalProto()
	require.NoError(t, err)
	big, err := request(200).MarshalProto() // names of 1..200 bytes: over 4 KiB
	require.NoError(t, err)
	for _, tc := range []struct {
		name, method, contentType, encoding string
		body                                []byte
		status                              int
		partial                             bool
	}{
		{"proto", http.MethodPost, ContentTypeProto, "", proto, http.StatusOK, true},
		{"json", http.MethodPost, ContentTypeJSON + "; charset=utf-8", "", jsonBody, http.StatusOK, true},
		{"gzip", http.MethodPost, ContentTypeProto, "gzip", gz(proto), http.StatusOK, true},
		{"empty request", http.MethodPost, ContentTypeProto, "identity", nil, http.StatusOK, false},
		{"GET", http.MethodGet, ContentTypeProto, "", nil, http.StatusMethodNotAllowed, false},
		{"text", http.MethodPost, "text/plain", "", proto, http.StatusUnsupportedMediaType, false},
		{"brotli", http.MethodPost, ContentTypeProto, "br", proto, http.StatusUnsupportedMediaType, false},
		{"not gzip", http.MethodPost, ContentTypeProto, "gzip", proto, http.StatusBadRequest, false},
		{"too large", http.MethodPost, ContentTypeProto, "", big, http.StatusRequestEntityTooLarge, false},
		{"too large once decompressed", http.MethodPost, ContentTypeProto, "gzip", gz(big), http.StatusRequestEntityTooLarge, false},
		{"undecodable", http.MethodPost, ContentTypeProto, "", []byte{0xff, 0xff}, http.StatusBadRequest, false},
		{"refused by Accept", http.MethodPost, ContentTypeProto, "", three, http.StatusBadRequest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+"/v1/traces", bytes.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", tc.contentType)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			res, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			out, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, tc.status, res.StatusCode, "%s", out)
			if tc.status != http.StatusOK {
				return
			}
			resp := ptraceotlp.NewExportResponse()
			if strings.HasPrefix(tc.contentType, ContentTypeJSON) {
				require.Equal(t, ContentTypeJSON, res.Header.Get("Content-Type"))
				require.NoError(t, resp.UnmarshalJSON(out))
			} else {
				require.Equal(t, ContentTypeProto, res.Header.Get("Content-Type"))
				require.NoError(t, resp.UnmarshalProto(out))
			}
			if tc.partial {
				require.Equal(t, int64(1), resp.PartialSuccess().RejectedSpans())
				require.Equal(t, "first dropped", resp.PartialSuccess().ErrorMessage())
			} else {
				require.Zero(t, resp.PartialSuccess().RejectedSpans())
			}
		})
	}
	require.Equal(t, int64(2), tooLarge.Load())
	require.Equal(t, int64(1), undecodable.Load())
}

func TestGRPC(t *testing.T) {
	h, _, _ := handler(4 << 10)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewGRPCServer(4<<10, h)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	ctx := context.Background()

	resp, err := client.Export(ctx, request(2), grpc.UseCompressor("gzip"))
	require.NoError(t, err)
	require.Equal(t, int64(1), resp.PartialSuccess().RejectedSpans())
	require.Equal(t, "first dropped", resp.PartialSuccess().ErrorMessage())

	_, err = client.Export(ctx, request(3))
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, err.Error(), "three is refused")

	_, err = client.Export(ctx, request(200))
	require.Equal(t, codes.ResourceExhausted, status.Code(err))
}
