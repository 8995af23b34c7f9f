package tracetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/tracer"
)

var (
	traceID = []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	spanA   = []byte{0xa, 0, 0, 0, 0, 0, 0, 1}
	spanB   = []byte{0xb, 0, 0, 0, 0, 0, 0, 2}
)

func strKV(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func intKV(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

// batch builds two spans of one trace: a server root and a client child with
// an event and a link.
func batch() []*tracepb.ResourceSpans {
	start := uint64(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strKV("service.name", "svc")}},
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope: &commonpb.InstrumentationScope{Name: "scope", Version: "1.2.3"},
			Spans: []*tracepb.Span{
				{
					TraceId: traceID, SpanId: spanA, Name: "root", Kind: tracepb.Span_SPAN_KIND_SERVER,
					StartTimeUnixNano: start, EndTimeUnixNano: start + 1000, TraceState: "k=v", Flags: 1,
					Attributes: []*commonpb.KeyValue{strKV("http.method", "GET"), intKV("n", 7)},
					Status:     &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "boom"},
				},
				{
					TraceId: traceID, SpanId: spanB, ParentSpanId: spanA, Name: "child", Kind: tracepb.Span_SPAN_KIND_CLIENT,
					StartTimeUnixNano: start + 10, EndTimeUnixNano: start + 900,
					Events:                 []*tracepb.Span_Event{{Name: "log", TimeUnixNano: start + 20, Attributes: []*commonpb.KeyValue{strKV("event", "retry")}}},
					Links:                  []*tracepb.Span_Link{{TraceId: traceID, SpanId: spanA, Attributes: []*commonpb.KeyValue{strKV("opentracing.ref_type", "follows_from")}}},
					DroppedAttributesCount: 3, DroppedEventsCount: 4, DroppedLinksCount: 5,
				},
			},
		}},
	}}
}

func checkBatch(t *testing.T, r *Receiver) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spans, err := r.WaitForSpans(ctx, 2)
	require.NoError(t, err)
	require.Len(t, spans, 2)

	root, ok := r.FindSpan("root")
	require.True(t, ok)
	require.Equal(t, "0102030405060708090a0b0c0d0e0f10", root.TraceID)
	require.Equal(t, "0a00000000000001", root.SpanID)
	require.Empty(t, root.ParentSpanID)
	require.Equal(t, tracer.KindServer, root.Kind)
	require.Equal(t, "k=v", root.TraceState)
	require.Equal(t, uint32(1), root.Flags)
	require.Equal(t, map[string]any{"http.method": "GET", "n": int64(7)}, root.Attributes)
	require.Equal(t, map[string]any{"service.name": "svc"}, root.Resource)
	require.Equal(t, Status{Code: tracer.StatusError, Message: "boom"}, root.Status)
	require.Equal(t, "scope", root.ScopeName)
	require.Equal(t, "1.2.3", root.ScopeVersion)
	require.Equal(t, time.Microsecond, root.End.Sub(root.Start))

	child, ok := r.FindSpan("child")
	require.True(t, ok)
	require.Equal(t, root.SpanID, child.ParentSpanID)
	require.Equal(t, tracer.KindClient, child.Kind)
	require.Len(t, child.Events, 1)
	require.Equal(t, "log", child.Events[0].Name)
	require.Equal(t, map[string]any{"event": "retry"}, child.Events[0].Attributes)
	require.Equal(t, []Link{{TraceID: root.TraceID, SpanID: root.SpanID, Attributes: map[string]any{"opentracing.ref_type": "follows_from"}}}, child.Links)
	require.Equal(t, 3, child.DroppedAttributes)
	require.Equal(t, 4, child.DroppedEvents)
	require.Equal(t, 5, child.DroppedLinks)

	require.Len(t, r.SpansByTrace()[root.TraceID], 2)
	require.Len(t, r.Batches(), 1)
	require.Equal(t, 2, r.Batches()[0].SpanCount())
}

// client uploads hand-built ResourceSpans through flowtrace's own OTLP
// transport, a real gRPC or HTTP client.
type client struct{ export.Transport }

func newClient(t *testing.T, s export.OTLPSettings) client {
	t.Helper()
	tr, err := export.NewOTLPClient(s)
	require.NoError(t, err)
	return client{tr}
}

func (c client) UploadTraces(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	b, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rs})
	if err != nil {
		return err
	}
	_, err = c.Send(ctx, b)
	return err
}

func upload(t *testing.T, c client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.UploadTraces(ctx, batch()))
	require.NoError(t, c.Close(ctx))
}

func newReceiver(t *testing.T, opts ...Option) *Receiver {
	t.Helper()
	r, err := NewReceiver(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

func TestReceiverGRPC(t *testing.T) {
	for _, comp := range []string{"", "gzip"} {
		t.Run("compression="+comp, func(t *testing.T) {
			r := newReceiver(t)
			require.True(t, strings.HasPrefix(r.GRPCEndpoint(), "http://127.0.0.1:"))
			upload(t, newClient(t, export.OTLPSettings{Endpoint: r.GRPCEndpoint(), Compression: comp}))
			checkBatch(t, r)
		})
	}
}

func TestReceiverHTTP(t *testing.T) {
	for _, tc := range []struct {
		name, protocol, compression string
	}{
		{"protobuf", export.ProtocolHTTPProtobuf, ""},
		{"protobuf+gzip", export.ProtocolHTTPProtobuf, "gzip"},
		{"json", export.ProtocolHTTPJSON, ""},
		{"json+gzip", export.ProtocolHTTPJSON, "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			require.True(t, strings.HasSuffix(r.HTTPEndpoint(), "/v1/traces"))
			upload(t, newClient(t, export.OTLPSettings{Protocol: tc.protocol, Endpoint: r.HTTPEndpoint(), Compression: tc.compression}))
			checkBatch(t, r)
		})
	}
}

// A hand-written OTLP/JSON body: ids are hex, enums integers.
const jsonBody = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0a00000000000001","name":"raw","kind":2,
"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}`

func post(t *testing.T, url, contentType, encoding string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestReceiverHTTPRawJSON(t *testing.T) {
	r := newReceiver(t)
	resp, body := post(t, r.HTTPEndpoint(), "application/json; charset=utf-8", "gzip", gz(t, []byte(jsonBody)))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	s, ok := r.FindSpan("raw")
	require.True(t, ok)
	require.Equal(t, "0102030405060708090a0b0c0d0e0f10", s.TraceID)
	require.Equal(t, tracer.KindServer, s.Kind)
}

func TestReceiverHTTPRejects(t *testing.T) {
	r := newReceiver(t, WithMaxRequestBytes(1024))
	big := []byte(`{"resourceSpans":[],"x":"` + strings.Repeat("a", 4096) + `"}`)
	for _, tc := range []struct {
		name, method, ctype, enc string
		body                     []byte
		want                     int
	}{
		{"get", http.MethodGet, "application/json", "", nil, http.StatusMethodNotAllowed},
		{"content type", http.MethodPost, "text/plain", "", []byte("x"), http.StatusUnsupportedMediaType},
		{"encoding", http.MethodPost, "application/json", "br", []byte("x"), http.StatusUnsupportedMediaType},
		{"garbage proto", http.MethodPost, "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
		{"garbage json", http.MethodPost, "application/json", "", []byte("{"), http.StatusBadRequest},
		{"bad gzip", http.MethodPost, "application/json", "gzip", []byte("not gzip"), http.StatusBadRequest},
		{"too large", http.MethodPost, "application/json", "", big, http.StatusRequestEntityTooLarge},
		{"too large after gunzip", http.MethodPost, "application/json", "gzip", gz(t, big), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.method != http.MethodPost {
				req, err := http.NewRequest(tc.method, r.HTTPEndpoint(), nil)
				require.NoError(t, err)
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				resp, err := (&http.Client{Transport: tr}).Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, tc.want, resp.StatusCode)
				return
			}
			resp, body := post(t, r.HTTPEndpoint(), tc.ctype, tc.enc, tc.body)
			require.Equal(t, tc.want, resp.StatusCode, body)
		})
	}
	require.Zero(t, r.SpanCount())
}

func TestReceiverMaxSpans(t *testing.T) {
	r := newReceiver(t, WithMaxSpans(3))
	c := newClient(t, export.OTLPSettings{Endpoint: r.GRPCEndpoint()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer func() { require.NoError(t, c.Close(ctx)) }()
	for range 3 {
		require.NoError(t, c.UploadTraces(ctx, batch()))
	}
	require.Equal(t, 3, r.SpanCount())
	require.Equal(t, int64(3), r.DroppedSpans())
	require.Equal(t, int64(3), r.Requests())
	require.Len(t, r.Batches(), 2)

	r.Reset()
	require.Zero(t, r.SpanCount())
	require.Zero(t, r.DroppedSpans())
	require.NoError(t, c.UploadTraces(ctx, batch()))
	require.Equal(t, 2, r.SpanCount())
}

func TestWaitForSpansTimeout(t *testing.T) {
	r := newReceiver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	got, err := r.WaitForSpans(ctx, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Empty(t, got)
}

func TestReceiverShutdown(t *testing.T) {
	r, err := NewReceiver()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.Shutdown(ctx))
	require.NoError(t, r.Close())
	_, err = net.DialTimeout("tcp", r.GRPCAddr(), time.Second)
	require.Error(t, err)
}

func TestBlackhole(t *testing.T) {
	b, err := NewBlackhole()
	require.NoError(t, err)
	c, err := net.Dial("tcp", b.Addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("POST /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.Conns() == 1 }, 5*time.Second, time.Millisecond)

	require.NoError(t, c.SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "blackhole must not answer")

	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Read(make([]byte, 1))
	require.Error(t, err) // EOF or reset: the blackhole closed the connection
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed, not timed out")
}

func TestReceiverConcurrentUploads(t *testing.T) {
	r := newReceiver(t)
	c := newClient(t, export.OTLPSettings{Endpoint: r.GRPCEndpoint()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer func() { require.NoError(t, c.Close(ctx)) }()
	done := make(chan error, 4)
	for range 4 {
		go func() {
			for range 10 {
				if err := c.UploadTraces(ctx, batch()); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	spans, err := r.WaitForSpans(ctx, 80)
	require.NoError(t, err)
	require.Len(t, spans, 80)
	for range 4 {
		require.NoError(t, <-done)
	}
	require.Len(t, r.Batches(), 40)
}
