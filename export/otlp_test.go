package export

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

func newReceiver(t *testing.T) *tracetest.Receiver {
	t.Helper()
	r, err := tracetest.NewReceiver()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

func newOTLP(t *testing.T, s OTLPSettings) *OTLPExporter {
	t.Helper()
	c, err := NewOTLPClient(s)
	require.NoError(t, err)
	return NewOTLP(c, testRes, WithScope("test-scope", "9.9.9"))
}

// badSpan carries invalid UTF-8 in every kind of string.
func badSpan() *tracer.SpanData {
	s := mkSpan(5000)
	s.Name = "bad\xffname"
	s.StatusMessage = "bad\xc3"
	s.Attributes = append(s.Attributes, tracer.Attribute{Key: "k\xfe", Value: "v\xff"})
	s.Events[0].Name = "ev\xff"
	return s
}

func TestOTLPEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings func(r *tracetest.Receiver) OTLPSettings
	}{
		{"grpc", func(r *tracetest.Receiver) OTLPSettings {
			return OTLPSettings{Protocol: ProtocolGRPC, Endpoint: r.GRPCEndpoint(), Headers: map[string]string{"x-token": "t"}}
		}},
		{"grpc+gzip", func(r *tracetest.Receiver) OTLPSettings {
			return OTLPSettings{Endpoint: r.GRPCEndpoint(), Compression: "gzip"}
		}},
		{"http/protobuf", func(r *tracetest.Receiver) OTLPSettings {
			return OTLPSettings{Protocol: ProtocolHTTPProtobuf, Endpoint: r.HTTPEndpoint()}
		}},
		{"http/protobuf+gzip+base URL", func(r *tracetest.Receiver) OTLPSettings {
			return OTLPSettings{Protocol: ProtocolHTTPProtobuf, Endpoint: strings.TrimSuffix(r.HTTPEndpoint(), "/v1/traces"), Compression: "gzip"}
		}},
		{"http/json", func(r *tracetest.Receiver) OTLPSettings {
			return OTLPSettings{Protocol: ProtocolHTTPJSON, Endpoint: r.HTTPEndpoint()}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t)
			b := NewBatcher(newOTLP(t, tc.settings(r)), WithMaxBatchSize(7), WithScheduleDelay(time.Hour))
			const n = 30
			for i := range n {
				b.OnEnd(mkSpan(i))
			}
			b.OnEnd(badSpan())
			require.NoError(t, shutdown(t, b, 10*time.Second))
			st := b.Stats()
			requireAccounted(t, st, n+1)
			require.Equal(t, int64(n+1), st.Exported)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			spans, err := r.WaitForSpans(ctx, n+1)
			require.NoError(t, err)
			require.Len(t, spans, n+1)
			require.Len(t, r.SpansByTrace(), 4) // traces 0, 1, 2 and the bad span's trace 500

			got, ok := r.FindSpan("op-13")
			require.True(t, ok)
			want := mkSpan(13)
			require.Equal(t, want.SpanContext.TraceID.String(), got.TraceID)
			require.Equal(t, want.SpanContext.SpanID.String(), got.SpanID)
			require.Equal(t, want.ParentSpanID.String(), got.ParentSpanID)
			require.Equal(t, "vendor=x", got.TraceState)
			require.Equal(t, uint32(1), got.Flags)
			require.Equal(t, tracer.KindServer, got.Kind)
			require.True(t, want.Start.Equal(got.Start))
			require.True(t, want.End.Equal(got.End))
			require.Equal(t, map[string]any{"i": int64(13), "http.method": "GET", "ok": true, "ratio": 0.5}, got.Attributes)
			require.Equal(t, map[string]any{"service.name": "checkout", "host.cores": int64(2)}, got.Resource)
			require.Equal(t, tracetest.Status{Code: tracer.StatusError, Message: "boom"}, got.Status)
			require.Equal(t, []tracetest.Event{{Name: "log", Time: testStart, Attributes: map[string]any{"event": "cache miss"}}}, got.Events)
			require.Equal(t, []tracetest.Link{{
				TraceID: traceIDOf(999).String(), SpanID: spanIDOf(999).String(),
				Attributes: map[string]any{RefTypeKey: "follows_from"},
			}}, got.Links)
			require.Equal(t, 1, got.DroppedAttributes)
			require.Equal(t, 2, got.DroppedEvents)
			require.Equal(t, 3, got.DroppedLinks)
			require.Equal(t, "test-scope", got.ScopeName)
			require.Equal(t, "9.9.9", got.ScopeVersion)

			root, ok := r.FindSpan("op-10")
			require.True(t, ok)
			require.Empty(t, root.ParentSpanID)

			bad, ok := r.FindSpan("bad\uFFFDname")
			require.True(t, ok, "the span with invalid UTF-8 arrives, sanitised")
			require.Equal(t, "bad\uFFFD", bad.Status.Message)
			require.Equal(t, "v\uFFFD", bad.Attributes["k\uFFFD"])
			require.Equal(t, "ev\uFFFD", bad.Events[0].Name)
		})
	}
}

// blackholed runs 10,000+ spans into a hung collector: OnEnd keeps
// returning, the queue stays bounded, Shutdown returns by its deadline and
// every span is accounted for.
func TestOTLPBlackholedCollector(t *testing.T) {
	for _, protocol := range []string{ProtocolGRPC, ProtocolHTTPProtobuf} {
		t.Run(protocol, func(t *testing.T) {
			bh, err := tracetest.NewBlackhole()
			require.NoError(t, err)
			defer func() { require.NoError(t, bh.Close()) }()
			endpoint := bh.Endpoint()
			if protocol != ProtocolGRPC {
				endpoint = bh.HTTPEndpoint()
			}
			const maxQueue, maxBytes = 1000, 256 << 10
			logs := &lineLogger{}
			b := NewBatcher(newOTLP(t, OTLPSettings{Protocol: protocol, Endpoint: endpoint, Timeout: time.Minute}),
				WithMaxQueueSize(maxQueue), WithMaxQueueBytes(maxBytes), WithMaxBatchSize(100),
				WithScheduleDelay(time.Millisecond), WithLogger(logs.logger()))

			const offered = 12000
			spans := make([]*tracer.SpanData, offered)
			for i := range spans {
				spans[i] = mkSpan(i)
			}
			start := time.Now()
			for i, s := range spans {
				b.OnEnd(s)
				if i%500 == 0 {
					st := b.Stats()
					require.LessOrEqual(t, st.QueueLen, int64(maxQueue))
					require.LessOrEqual(t, st.QueueBytes, int64(maxBytes))
				}
			}
			t.Logf("%d OnEnd calls against a blackholed collector took %v", offered, time.Since(start))
			st := b.Stats()
			require.LessOrEqual(t, st.QueueLen, int64(maxQueue))
			require.LessOrEqual(t, st.QueueBytes, int64(maxBytes))
			require.Positive(t, st.DroppedQueueFull)
			require.Zero(t, st.Exported)

			start = time.Now()
			err = shutdown(t, b, 500*time.Millisecond)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Less(t, time.Since(start), 2*time.Second)
			st = b.Stats()
			requireAccounted(t, st, offered)
			require.Zero(t, st.Exported)
			require.Positive(t, st.DroppedAtShutdown)
			// The worker goroutine stops once the aborted export returns.
			require.Eventually(t, func() bool {
				select {
				case <-b.done:
					return true
				default:
					return false
				}
			}, 5*time.Second, 5*time.Millisecond)
		})
	}
}

func TestOTLPDeadCollectorDoesNotBlockStart(t *testing.T) {
	// Nothing listens on port 1; creating and starting the client must not wait.
	exp := newOTLP(t, OTLPSettings{Endpoint: "http://127.0.0.1:1", Timeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.Error(t, exp.Export(ctx, []*tracer.SpanData{mkSpan(1)}))
	require.NoError(t, exp.Shutdown(ctx))
	require.NoError(t, exp.Shutdown(ctx))
	require.ErrorIs(t, exp.Export(ctx, []*tracer.SpanData{mkSpan(1)}), errExporterShutdown)
}

func TestOTLPSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	for _, tc := range []struct {
		name string
		s    OTLPSettings
		want string
	}{
		{"empty endpoint", OTLPSettings{}, "endpoint is empty"},
		{"no scheme", OTLPSettings{Endpoint: "collector:4317"}, "scheme"},
		{"bad scheme", OTLPSettings{Endpoint: "ftp://collector:4317"}, "scheme"},
		{"no host", OTLPSettings{Endpoint: "http://"}, "no host"},
		{"compression", OTLPSettings{Endpoint: "http://c:4317", Compression: "zstd"}, "compression"},
		{"protocol", OTLPSettings{Endpoint: "http://c:4317", Protocol: "thrift"}, "protocol"},
		{"missing certificate", OTLPSettings{Endpoint: "https://c:4317", Certificate: filepath.Join(dir, "nope.pem")}, "certificate"},
		{"certificate without PEM", OTLPSettings{Endpoint: "https://c:4317", Certificate: notPEM}, "no PEM"},
		{"certificate is a directory", OTLPSettings{Endpoint: "https://c:4317", Certificate: dir}, "not a regular file"},
		{"client certificate without key", OTLPSettings{Endpoint: "https://c:4317", ClientCertificate: notPEM}, "together"},
		{"client key pair not PEM", OTLPSettings{Endpoint: "https://c:4317", ClientCertificate: notPEM, ClientKey: notPEM}, "client certificate"},
		{"endpoint password", OTLPSettings{Endpoint: "ftp://user:S3CRET@c:4317"}, "scheme"},
		{"unparsable endpoint with password", OTLPSettings{Endpoint: "http://user:S3CRET@[::1"}, "not a URL"},
		{"header value", OTLPSettings{Endpoint: "http://c:4317", Headers: map[string]string{"x-tenant": "Bearer S3CRET\x01"}}, "invalid value (not shown)"},
		{"header key", OTLPSettings{Endpoint: "http://c:4317", Headers: map[string]string{"bad key": "v"}}, "invalid name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewOTLPClient(tc.s)
			require.ErrorContains(t, err, tc.want)
			for _, secret := range []string{"S3CRET", "Bearer"} {
				require.NotContains(t, err.Error(), secret, "errors never carry header values or passwords")
			}
			tc.s.Protocol = ProtocolHTTPProtobuf
			if !strings.Contains(tc.name, "protocol") {
				_, err = NewOTLPClient(tc.s)
				require.ErrorContains(t, err, tc.want)
			}
		})
	}
}

func TestOTLPSettingsTLS(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	der := srv.Certificate().Raw
	_, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))

	s := OTLPSettings{Endpoint: "https://collector:4317", Certificate: certFile}
	p, err := s.parse()
	require.NoError(t, err)
	require.False(t, p.insecure)
	require.NotNil(t, p.tls)
	for _, proto := range []string{ProtocolGRPC, ProtocolHTTPProtobuf} {
		s.Protocol = proto
		c, err := NewOTLPClient(s)
		require.NoError(t, err)
		require.NoError(t, c.Close(context.Background()))
	}

	p, err = OTLPSettings{Endpoint: "https://collector:4317", Insecure: true}.parse()
	require.NoError(t, err)
	require.True(t, p.insecure, "Insecure overrides the https scheme")
	p, err = OTLPSettings{Endpoint: "http://collector:4317"}.parse()
	require.NoError(t, err)
	require.True(t, p.insecure, "http scheme means plain text")

	rp := OTLPSettings{Timeout: 2 * time.Second}.retry()
	require.Equal(t, retryPolicy{initial: 200 * time.Millisecond, max: time.Second}, rp)
}

func TestToOTLP(t *testing.T) {
	require.Nil(t, ToOTLP(testRes, "s", "v", nil))
	require.Nil(t, ToOTLP(testRes, "s", "v", []*tracer.SpanData{nil}))

	type named string
	s := &tracer.SpanData{
		SpanContext: propagation.SpanContext{TraceID: traceIDOf(1), SpanID: spanIDOf(2), Flags: 3, TraceState: "a=b"},
		Name:        "n\xff",
		Kind:        tracer.KindProducer,
		Attributes: []tracer.Attribute{
			{Key: "int", Value: int(-1)}, {Key: "int8", Value: int8(-8)}, {Key: "int16", Value: int16(-16)},
			{Key: "int32", Value: int32(-32)}, {Key: "int64", Value: int64(math.MinInt64)},
			{Key: "uint", Value: uint(1)}, {Key: "uint8", Value: uint8(8)}, {Key: "uint16", Value: uint16(16)},
			{Key: "uint32", Value: uint32(math.MaxUint32)}, {Key: "uint64", Value: uint64(math.MaxInt64)},
			{Key: "uint64big", Value: uint64(math.MaxUint64)}, {Key: "uintbig", Value: uint(math.MaxUint64)},
			{Key: "f32", Value: float32(1.5)}, {Key: "f64", Value: 2.25}, {Key: "bool", Value: false},
			{Key: "bytes", Value: []byte{1, 2}}, {Key: "nil", Value: nil}, {Key: "named", Value: named("x")},
			{Key: "str", Value: "s\xc3("},
		},
		Links:             []tracer.Link{{SpanContext: propagation.SpanContext{TraceID: traceIDOf(7), SpanID: spanIDOf(8), TraceState: "t\xff=1"}}},
		DroppedAttributes: -5,
		DroppedLinks:      math.MaxInt64,
	}
	rs := ToOTLP(testRes, "scope\xff", "v", []*tracer.SpanData{nil, s})
	require.Len(t, rs, 1)
	require.Len(t, rs[0].ScopeSpans, 1)
	require.Equal(t, "scope\uFFFD", rs[0].ScopeSpans[0].Scope.Name)
	require.Len(t, rs[0].Resource.Attributes, 2)
	spans := rs[0].ScopeSpans[0].Spans
	require.Len(t, spans, 1)
	ps := spans[0]
	require.Equal(t, s.SpanContext.TraceID[:], ps.TraceId)
	require.Equal(t, s.SpanContext.SpanID[:], ps.SpanId)
	require.Empty(t, ps.ParentSpanId)
	require.Equal(t, uint32(3), ps.Flags)
	require.Equal(t, "a=b", ps.TraceState)
	require.Equal(t, "n\uFFFD", ps.Name)
	require.Equal(t, tracepb.Span_SPAN_KIND_PRODUCER, ps.Kind)
	require.Zero(t, ps.StartTimeUnixNano, "zero time is 0")
	require.Zero(t, ps.DroppedAttributesCount)
	require.Equal(t, uint32(math.MaxUint32), ps.DroppedLinksCount)
	require.Equal(t, tracepb.Status_STATUS_CODE_UNSET, ps.Status.Code)

	got := map[string]*commonpb.AnyValue{}
	for _, kv := range ps.Attributes {
		got[kv.Key] = kv.Value
	}
	ints := map[string]int64{
		"int": -1, "int8": -8, "int16": -16, "int32": -32, "int64": math.MinInt64,
		"uint": 1, "uint8": 8, "uint16": 16, "uint32": math.MaxUint32, "uint64": math.MaxInt64,
	}
	for k, v := range ints {
		require.Equal(t, v, got[k].GetIntValue(), k)
	}
	require.Equal(t, "18446744073709551615", got["uint64big"].GetStringValue(), "uint64 > MaxInt64 becomes a decimal string")
	require.Equal(t, "18446744073709551615", got["uintbig"].GetStringValue())
	require.Equal(t, 1.5, got["f32"].GetDoubleValue())
	require.Equal(t, 2.25, got["f64"].GetDoubleValue())
	require.IsType(t, &commonpb.AnyValue_BoolValue{}, got["bool"].Value)
	require.Equal(t, []byte{1, 2}, got["bytes"].GetBytesValue())
	require.Nil(t, got["nil"].Value)
	require.Equal(t, "x", got["named"].GetStringValue())
	require.Equal(t, "s\uFFFD(", got["str"].GetStringValue())

	require.Len(t, ps.Links, 1)
	require.Equal(t, "t\uFFFD=1", ps.Links[0].TraceState)
	require.Empty(t, ps.Links[0].Attributes, "no Type, no ref_type attribute")

	_, err := proto.Marshal(rs[0])
	require.NoError(t, err, "sanitised output marshals")

	// The conversion copies: changing the input afterwards changes nothing.
	s.SpanContext.TraceID[0] = 0
	require.Equal(t, byte(0xab), ps.TraceId[0])
}

func TestConsole(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf, testRes)
	b := NewBatcher(c, WithMaxBatchSize(4), WithScheduleDelay(time.Hour))
	for i := range 10 {
		b.OnEnd(mkSpan(i))
	}
	b.OnEnd(badSpan())
	require.NoError(t, shutdown(t, b, 5*time.Second))
	requireAccounted(t, b.Stats(), 11)
	require.Equal(t, int64(11), b.Stats().Exported)
	require.ErrorIs(t, c.Export(context.Background(), []*tracer.SpanData{mkSpan(1)}), errExporterShutdown)

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 3) // batches of 4, 4 and 3
	total := 0
	for _, line := range lines {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces([]byte(line))
		require.NoError(t, err)
		total += td.SpanCount()

		var raw struct {
			ResourceSpans []struct {
				ScopeSpans []struct {
					Spans []struct {
						TraceID      string `json:"traceId"`
						SpanID       string `json:"spanId"`
						ParentSpanID string `json:"parentSpanId"`
						Kind         int    `json:"kind"`
					} `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &raw))
		for _, sp := range raw.ResourceSpans[0].ScopeSpans[0].Spans {
			require.Regexp(t, `^[0-9a-f]{32}$`, sp.TraceID)
			require.Regexp(t, `^[0-9a-f]{16}$`, sp.SpanID)
			require.Regexp(t, `^([0-9a-f]{16})?$`, sp.ParentSpanID)
			require.Equal(t, int(tracer.KindServer), sp.Kind, "enums are integers")
		}
	}
	require.Equal(t, 11, total)
	require.Contains(t, buf.String(), `"traceId":"`+traceIDOf(0).String()+`"`)
	require.Contains(t, buf.String(), `"startTimeUnixNano"`)
}

func TestConverterReuseMatchesToOTLP(t *testing.T) {
	var c Converter
	for round := 0; round < 3; round++ {
		spans := make([]*tracer.SpanData, 0, 40*(round+1))
		for i := 0; i < cap(spans); i++ {
			spans = append(spans, mkSpan(i+round*1000))
		}
		want := ToOTLP(testRes, "s", "v", spans)
		got := c.Convert(testRes, "s", "v", spans)
		require.Len(t, got, 1)
		require.True(t, proto.Equal(want[0], got[0]), "round %d", round)
	}
}
