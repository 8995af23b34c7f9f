package export

import (
	"context"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// encodeCases are spans that exercise every rule of ToOTLP.
func encodeCases() map[string]*tracer.SpanData {
	long := strings.Repeat("x", 300) // nested lengths past one varint byte
	cases := map[string]*tracer.SpanData{
		"full":    mkSpan(3),
		"root":    mkSpan(10),
		"empty":   {},
		"invalid": badSpan(),
		"values": {
			SpanContext: propagation.SpanContext{TraceID: traceIDOf(1), SpanID: spanIDOf(1)},
			Name:        "values",
			Kind:        tracer.KindClient,
			Start:       testStart,
			Attributes: []tracer.Attribute{
				{Key: "s", Value: ""}, {Key: "b", Value: false}, {Key: "i", Value: 0},
				{Key: "i8", Value: int8(-8)}, {Key: "i16", Value: int16(-16)}, {Key: "i32", Value: int32(-32)},
				{Key: "i64", Value: int64(math.MinInt64)}, {Key: "u8", Value: uint8(8)}, {Key: "u16", Value: uint16(16)},
				{Key: "u32", Value: uint32(math.MaxUint32)}, {Key: "u", Value: uint(7)}, {Key: "u64", Value: uint64(math.MaxUint64)},
				{Key: "uptr", Value: uintptr(9)}, {Key: "f32", Value: float32(1.5)}, {Key: "f64", Value: math.Inf(-1)},
				{Key: "zero", Value: 0.0}, {Key: "bytes", Value: []byte{0, 1, 2}}, {Key: "nil", Value: nil},
				{Key: "other", Value: struct{ A int }{3}}, {Key: "", Value: "empty key"},
				{Key: long, Value: long}, {Key: "clé-ünïcode", Value: "naïve café, 8 bytes+ and \xff"},
			},
			DroppedAttributes: -4,
		},
		"big event and link": {
			SpanContext: propagation.SpanContext{TraceID: traceIDOf(2), SpanID: spanIDOf(2), TraceState: long},
			Name:        long,
			Events: []tracer.Event{
				{Name: long, Attributes: []tracer.Attribute{{Key: "k", Value: long}, {Key: "n", Value: 1}}},
				{Time: testStart},
			},
			Links: []tracer.Link{
				{SpanContext: propagation.SpanContext{TraceID: traceIDOf(3), SpanID: spanIDOf(3), TraceState: long}},
				{SpanContext: propagation.SpanContext{TraceID: traceIDOf(4), SpanID: spanIDOf(4), Flags: 3}, Type: "child_of"},
			},
			Status:        tracer.StatusOK,
			StatusMessage: long,
		},
	}
	big := &tracer.SpanData{SpanContext: propagation.SpanContext{TraceID: traceIDOf(5), SpanID: spanIDOf(5)}, Name: "many"}
	for i := 0; i < 200; i++ {
		big.Attributes = append(big.Attributes, tracer.Attribute{Key: "k", Value: long})
		big.Events = append(big.Events, tracer.Event{Name: "e", Attributes: []tracer.Attribute{{Key: "v", Value: long}}})
	}
	cases["many"] = big
	cases["arrays"] = &tracer.SpanData{
		SpanContext: propagation.SpanContext{TraceID: traceIDOf(6), SpanID: spanIDOf(6)},
		Name:        "arrays",
		Attributes: []tracer.Attribute{
			{Key: "strs", Value: []string{"a", "", "b\xff", long}}, {Key: "bools", Value: []bool{true, false}},
			{Key: "ints", Value: []int64{0, -1, math.MaxInt64}}, {Key: "floats", Value: []float64{0, 0.5}},
			{Key: "empty", Value: []string{}},
		},
	}
	return cases
}

// TestEncodeMatchesConverter: a span encoded at finish is byte for byte
// what Converter + proto.Marshal make of it, so a collector cannot tell
// the two paths apart.
func TestEncodeMatchesConverter(t *testing.T) {
	for name, s := range encodeCases() {
		t.Run(name, func(t *testing.T) {
			want, err := proto.Marshal(ToOTLP(nil, "", "", []*tracer.SpanData{s})[0].ScopeSpans[0].Spans[0])
			require.NoError(t, err)
			got := appendSpan(nil, s)
			if string(got) != string(want) {
				var sp tracepb.Span
				require.NoError(t, proto.Unmarshal(got, &sp), "the encoding parses")
				require.Equal(t, string(want), string(got), "decoded: %v", &sp)
			}
		})
	}
}

// captureTransport keeps every request it is sent.
type captureTransport struct {
	mu   sync.Mutex
	reqs [][]byte
}

func (c *captureTransport) Send(_ context.Context, b []byte) (Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, b)
	return Response{}, nil
}

func (c *captureTransport) Close(context.Context) error { return nil }

// TestExportEncodedMatchesExport: Export (spans as *SpanData) and
// exportEncoded (spans encoded at finish, the Batcher's path) send the same
// requests, and those are the ones Converter + proto.Marshal give: resource,
// one ScopeSpans per scope in the order scopes first appear, the spans; at
// a limit that splits the batch, each request stays under it and together
// they carry every span once, in order.
func TestExportEncodedMatchesExport(t *testing.T) {
	var spans []*tracer.SpanData
	for i := 0; i < 300; i++ {
		s := mkSpan(i)
		switch i % 3 {
		case 1:
			s.Scope = tracer.Scope{Name: "otel/a", Version: "1.0"}
		case 2:
			s.Scope = tracer.Scope{Name: "otel/b"}
		}
		if i == 7 {
			s.Attributes = append(s.Attributes, tracer.Attribute{Key: "big", Value: strings.Repeat("x", 1000)})
		}
		spans = append(spans, s)
	}
	want := ToOTLP(testRes, "test-scope", "9.9.9", spans)
	var wantSpans []*tracepb.Span
	for _, ss := range want[0].ScopeSpans {
		wantSpans = append(wantSpans, ss.Spans...)
	}
	for _, limit := range []int{0, MinMaxRequestBytes} {
		byExport, byEncoded := &captureTransport{}, &captureTransport{}
		a := NewOTLP(byExport, testRes, WithMaxRequestBytes(limit), WithScope("test-scope", "9.9.9"))
		b := NewOTLP(byEncoded, testRes, WithMaxRequestBytes(limit), WithScope("test-scope", "9.9.9"))
		var enc []encodedSpan
		for _, s := range spans {
			enc = append(enc, b.encodeSpan(s))
		}
		require.NoError(t, b.exportEncoded(context.Background(), enc))
		require.NoError(t, a.Export(context.Background(), spans))
		require.Equal(t, byExport.reqs, byEncoded.reqs, "limit %d: the same bytes", limit)
		if limit == 0 {
			require.Len(t, byExport.reqs, 1)
			var got coltracepb.ExportTraceServiceRequest
			require.NoError(t, proto.Unmarshal(byExport.reqs[0], &got))
			wantReq := &coltracepb.ExportTraceServiceRequest{ResourceSpans: want}
			require.True(t, proto.Equal(wantReq, &got), "differs from Converter's:\nwant %v\ngot  %v", wantReq, &got)
			wb, err := proto.Marshal(wantReq)
			require.NoError(t, err)
			require.Equal(t, wb, byExport.reqs[0], "byte for byte what proto.Marshal gives")
			continue
		}
		require.Greater(t, len(byExport.reqs), 1, "limit %d splits", limit)
		var gotSpans []*tracepb.Span
		for i, r := range byExport.reqs {
			require.LessOrEqual(t, len(r), limit, "request %d", i)
			var got coltracepb.ExportTraceServiceRequest
			require.NoError(t, proto.Unmarshal(r, &got))
			require.True(t, proto.Equal(want[0].Resource, got.ResourceSpans[0].Resource))
			for _, ss := range got.ResourceSpans[0].ScopeSpans {
				gotSpans = append(gotSpans, ss.Spans...)
			}
		}
		require.Len(t, gotSpans, len(wantSpans))
		byID := map[string]*tracepb.Span{}
		for _, sp := range gotSpans {
			byID[string(sp.SpanId)] = sp
		}
		for _, sp := range wantSpans {
			require.True(t, proto.Equal(sp, byID[string(sp.SpanId)]), "span %s", sp.Name)
		}
	}
}

// TestQueueHoldsNoSpan: in front of an OTLPExporter the queue holds the
// span's bytes, not the span: a queued span's SpanData can be collected
// before the batch is exported, and the byte bound counts the encoding.
func TestQueueHoldsNoSpan(t *testing.T) {
	tr := &captureTransport{}
	b := NewBatcher(NewOTLP(tr, testRes), WithScheduleDelay(time.Hour))
	s := mkSpan(1)
	want := int64(len(appendSpan(nil, s)))
	w := weak.Make(s)
	b.OnEnd(s)
	s = nil
	runtime.GC()
	require.Nil(t, w.Value(), "the queued span was collected")
	st := b.Stats()
	require.Equal(t, int64(1), st.QueueLen)
	require.Equal(t, want, st.QueueBytes, "the byte bound counts the encoded span")
	require.NoError(t, b.Shutdown(context.Background()))
	require.Len(t, tr.reqs, 1)
	var req coltracepb.ExportTraceServiceRequest
	require.NoError(t, proto.Unmarshal(tr.reqs[0], &req))
	require.Equal(t, "op-1", req.ResourceSpans[0].ScopeSpans[0].Spans[0].Name)
	require.Equal(t, int64(1), b.Stats().Exported)
}

func TestOnEndEncodedAllocs(t *testing.T) {
	bt := NewBatcher(NewOTLP(&discardTransport{}, testRes), WithScheduleDelay(time.Millisecond))
	defer func() { _ = bt.Shutdown(context.Background()) }()
	s := mkSpan(1)
	if n := testing.AllocsPerRun(1000, func() { bt.OnEnd(s) }); n > 0 {
		t.Fatalf("OnEnd in front of an OTLP exporter allocates %v times, want 0 (the span's bytes go to a reused chunk)", n)
	}
}

type discardTransport struct{}

func (discardTransport) Send(context.Context, []byte) (Response, error) { return Response{}, nil }
func (discardTransport) Close(context.Context) error                    { return nil }

// BenchmarkEncodeSpan reports the cost of encoding one span at finish.
func BenchmarkEncodeSpan(b *testing.B) {
	s := mkSpan(1)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendSpan(buf[:0], s)
	}
}

// TestEncodeKeyValueLengths: tags whose KeyValue is just under, at and
// over 127 bytes (where a length takes a second byte), for each kind of
// value the short path writes, encode as the converter does.
func TestEncodeKeyValueLengths(t *testing.T) {
	for _, key := range []string{"", "k", strings.Repeat("k", 60), "é" + strings.Repeat("k", 50), "\xff" + strings.Repeat("k", 50)} {
		for n := 0; n < 140; n++ {
			s := &tracer.SpanData{Name: "lengths", Attributes: []tracer.Attribute{
				{Key: key + strings.Repeat("a", n%80), Value: strings.Repeat("v", n)},
				{Key: key + strings.Repeat("a", n), Value: true},
				{Key: key + strings.Repeat("a", n), Value: int64(-1) << (n % 64)},
				{Key: key + strings.Repeat("a", n), Value: n << 50},
				{Key: key + strings.Repeat("a", n), Value: 1.5},
				{Key: key, Value: strings.Repeat("ü", n) + "\xfe"},
			}}
			want, err := proto.Marshal(ToOTLP(nil, "", "", []*tracer.SpanData{s})[0].ScopeSpans[0].Spans[0])
			require.NoError(t, err)
			require.Equal(t, string(want), string(appendSpan(nil, s)), "key %q, n %d", key, n)
		}
	}
}

// TestIsASCII: a byte at or above 0x80 at any position of strings of
// every length up to 40 is seen, in the words, the overlapping last word
// and the byte tail.
func TestIsASCII(t *testing.T) {
	for n := 0; n <= 40; n++ {
		ascii := strings.Repeat("a", n)
		require.True(t, isASCII(ascii), n)
		for i := 0; i < n; i++ {
			b := []byte(ascii)
			b[i] = 0x80
			require.False(t, isASCII(string(b)), "len %d, byte %d", n, i)
			b[i] = 0xff
			require.False(t, isASCII(string(b)), "len %d, byte %d", n, i)
		}
	}
}
