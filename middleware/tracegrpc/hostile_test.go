package tracegrpc_test

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
)

// rawResult is what a raw HTTP/2 call saw.
type rawResult struct {
	headers map[string][]string // response headers and trailers
	reset   bool                // the server reset the stream
}

// rawCall makes one gRPC call to /test.Echo/Unary with an empty message by
// writing HTTP/2 frames directly, so that it can send metadata grpc-go's
// client refuses to send.
func rawCall(t *testing.T, addr string, extra [][2]string) rawResult {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = conn.Write([]byte(http2.ClientPreface))
	require.NoError(t, err)
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = 64 << 20
	require.NoError(t, fr.WriteSettings())

	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", mUnary}, {":authority", addr},
		{"content-type", "application/grpc"}, {"te", "trailers"},
	} {
		require.NoError(t, enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}))
	}
	for _, f := range extra {
		require.NoError(t, enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}))
	}
	b := block.Bytes()
	const chunk = 16384
	first := b[:min(chunk, len(b))]
	require.NoError(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndHeaders: len(b) <= chunk}))
	for rest := b[len(first):]; len(rest) > 0; {
		n := min(chunk, len(rest))
		require.NoError(t, fr.WriteContinuation(1, n == len(rest), rest[:n]))
		rest = rest[n:]
	}
	// An empty StringValue: uncompressed flag and zero length.
	require.NoError(t, fr.WriteData(1, true, []byte{0, 0, 0, 0, 0}))

	res := rawResult{headers: map[string][]string{}}
	for {
		f, err := fr.ReadFrame()
		require.NoError(t, err)
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				require.NoError(t, fr.WriteSettingsAck())
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				require.NoError(t, fr.WritePing(true, f.Data))
			}
		case *http2.MetaHeadersFrame:
			for _, hf := range f.Fields {
				res.headers[hf.Name] = append(res.headers[hf.Name], hf.Value)
			}
			if f.StreamEnded() {
				return res
			}
		case *http2.RSTStreamFrame:
			res.reset = true
			return res
		case *http2.GoAwayFrame:
			res.reset = true
			return res
		}
	}
}

func TestHostileMetadata(t *testing.T) {
	t.Parallel()
	e, _, flush := tracedEnv(t)
	huge := strings.Repeat("a", 1<<20)
	cases := []struct {
		name  string
		extra [][2]string
		// badFlow: the incoming flow id is invalid and must be replaced.
		badFlow string
	}{
		{"obs-text flow id", [][2]string{{"x-flow-id", "abc\x80\xff"}}, "abc\x80\xff"},
		{"huge flow id", [][2]string{{"x-flow-id", huge}}, huge},
		{"two flow ids", [][2]string{{"x-flow-id", "one"}, {"x-flow-id", "two"}}, "one"},
		{"traceparent high bytes", [][2]string{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\xff"}}, ""},
		{"huge baggage", [][2]string{{"baggage", "flow_id=" + huge}}, ""},
		{"baggage high bytes", [][2]string{{"baggage", "flow_id=\xffevil"}}, ""},
		{"huge tracestate", [][2]string{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, {"tracestate", "a=" + huge}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := rawCall(t, e.addr, tc.extra)
			require.False(t, res.reset, "headers: %v", res.headers)
			assert.Equal(t, []string{"0"}, res.headers["grpc-status"])
			got := res.headers["x-flow-id"]
			require.Len(t, got, 1)
			assert.True(t, flowid.Valid(got[0]))
			assert.Equal(t, got[0], e.echo.last().FlowID)
			if tc.badFlow != "" {
				assert.NotEqual(t, tc.badFlow, got[0])
			}
		})
	}
	spans := flush(len(cases))
	for i, s := range spans {
		for k, v := range s.Attributes {
			str, ok := v.(string)
			if !ok {
				continue
			}
			assert.LessOrEqualf(t, len(str), 256, "span %d tag %s", i, k)
			assert.Truef(t, printable(str), "span %d tag %s = %q", i, k, str)
		}
	}
	// The traceparent with a trailing 0xff was ignored: that span is a root.
	for _, s := range spans {
		if s.TraceID == "0af7651916cd43dd8448eb211c80319c" {
			// Only the valid traceparent with a huge tracestate may join the
			// trace, and its tracestate must be dropped.
			assert.Empty(t, s.TraceState)
		}
	}
	var invalid []string
	for _, s := range spans {
		if v, ok := s.Attributes[semconv.FlowIDInvalid.Key()].(string); ok {
			invalid = append(invalid, v)
		}
	}
	assert.ElementsMatch(t, []string{
		flowid.Sanitize("abc\x80\xff"), flowid.Sanitize(huge), flowid.Sanitize("one"),
	}, invalid)
}

func TestHostileControlBytesRejectedByTransport(t *testing.T) {
	t.Parallel()
	// NUL, CR, LF, ESC and DEL never reach the handler: HTTP/2 refuses them. The
	// server must keep serving.
	e, _, _ := tracedEnv(t)
	for _, v := range []string{"a\x00b", "a\r\nb", "a\x7fb", "\x1b[31mred"} {
		res := rawCall(t, e.addr, [][2]string{{"x-flow-id", v}})
		assert.True(t, res.reset || res.headers["grpc-status"][0] != "0", "%q: %v", v, res.headers)
	}
	out, err := e.unary(t.Context(), "still-up")
	require.NoError(t, err)
	assert.Equal(t, "echo:still-up", out)
}
