package source_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// manySpans builds one request with n spans of service "big" and 3 of
// service "small".
func manySpans(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, svc := range []struct {
		name string
		n    int
	}{{"big", n}, {"small", 3}} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc.name)
		sps := rs.ScopeSpans().AppendEmpty().Spans()
		for i := 0; i < svc.n; i++ {
			sp := sps.AppendEmpty()
			sp.SetTraceID(pcommon.TraceID{1, byte(i >> 8), byte(i)})
			sp.SetSpanID(pcommon.SpanID{2, byte(i >> 16), byte(i >> 8), byte(i)})
			sp.SetName(fmt.Sprintf("op%d", i%7))
			sp.Attributes().PutInt("i", int64(i))
		}
	}
	return td
}

func TestStreamProtoInChunks(t *testing.T) {
	n := 2*source.ChunkSpans + 10
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(manySpans(n))
	require.NoError(t, err)
	// pdata writes each resource after its spans; from a file the reader
	// looks ahead for it and streams the spans in chunks.
	path := filepath.Join(t.TempDir(), "big.pb")
	require.NoError(t, os.WriteFile(path, raw, 0o644))
	var chunks []int
	var all []*trace.Span
	err = source.StreamFile(path, func(spans []*trace.Span) error {
		chunks = append(chunks, len(spans))
		all = append(all, spans...)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []int{source.ChunkSpans, source.ChunkSpans, 10, 3}, chunks)
	require.Len(t, all, n+3)
	require.Equal(t, "big", all[0].Service)
	require.Equal(t, int64(n-1), all[n-1].Attributes["i"])
	require.Equal(t, "small", all[n].Service)

	// From a stream that cannot be read ahead, a resource's spans are held
	// until the resource comes.
	chunks = nil
	err = source.Stream(bytes.NewReader(raw), "big.pb", func(spans []*trace.Span) error {
		chunks = append(chunks, len(spans))
		require.Equal(t, spans[0].Service, spans[len(spans)-1].Service)
		require.NotEqual(t, "unknown", spans[0].Service)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []int{n, 3}, chunks)

	// Written in field order (resource first, as the OpenTelemetry SDK's
	// protobuf encoder does), a stream is chunked too.
	ordered := reorderResourceFirst(t, raw)
	chunks = nil
	err = source.Stream(bytes.NewReader(ordered), "big.pb", func(spans []*trace.Span) error {
		chunks = append(chunks, len(spans))
		require.NotEqual(t, "unknown", spans[0].Service)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []int{source.ChunkSpans, source.ChunkSpans, 10, 3}, chunks)
}

// A ResourceSpans whose resource comes after its spans (legal protobuf,
// not what marshallers write) still gets its service name, and unknown
// fields are skipped.
func TestStreamProtoFieldOrder(t *testing.T) {
	td := manySpans(5)
	rs := td.ResourceSpans().At(0)
	// Build ResourceSpans by hand: scope_spans (2), then an unknown varint
	// field (9), then the resource (1).
	one := ptrace.NewTraces()
	rs.CopyTo(one.ResourceSpans().AppendEmpty())
	oneRaw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(one)
	require.NoError(t, err)
	fields := map[protowire.Number][]byte{}
	rsBytes, _ := consumeBytesField(t, oneRaw, 1)
	for b := rsBytes; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		require.Equal(t, protowire.BytesType, typ)
		v, m := protowire.ConsumeBytes(b[n:])
		fields[num] = v
		b = b[n+m:]
	}
	var re []byte
	re = protowire.AppendTag(re, 2, protowire.BytesType)
	re = protowire.AppendBytes(re, fields[2])
	re = protowire.AppendTag(re, 9, protowire.VarintType)
	re = protowire.AppendVarint(re, 12345)
	re = protowire.AppendTag(re, 1, protowire.BytesType)
	re = protowire.AppendBytes(re, fields[1])
	req := protowire.AppendTag(nil, 7, protowire.Fixed64Type) // unknown top-level field
	req = protowire.AppendFixed64(req, 1)
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, re)
	path := filepath.Join(t.TempDir(), "odd.pb")
	require.NoError(t, os.WriteFile(path, req, 0o644))
	for _, read := range []func() ([]*trace.Span, error){
		func() ([]*trace.Span, error) {
			return source.Read(bytes.NewReader(req), "odd.pb", source.WithFormat(source.FormatOTLPProto))
		},
		func() ([]*trace.Span, error) { return source.ReadFile(path) },
	} {
		spans, err := read()
		require.NoError(t, err)
		require.Len(t, spans, 5)
		for _, s := range spans {
			require.Equal(t, "big", s.Service)
		}
	}
}

// reorderResourceFirst rewrites each ResourceSpans of a request so that
// its resource field comes first.
func reorderResourceFirst(t *testing.T, req []byte) []byte {
	t.Helper()
	var out []byte
	for b := req; len(b) > 0; {
		rs, rest := consumeBytesField(t, b, 1)
		b = rest
		var res, other []byte
		for r := rs; len(r) > 0; {
			num, _, n := protowire.ConsumeTag(r)
			v, m := protowire.ConsumeBytes(r[n:])
			field := protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
			if num == 1 {
				res = append(res, field...)
			} else {
				other = append(other, field...)
			}
			r = r[n+m:]
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, append(res, other...))
	}
	return out
}

func consumeBytesField(t *testing.T, b []byte, want protowire.Number) ([]byte, []byte) {
	t.Helper()
	num, typ, n := protowire.ConsumeTag(b)
	require.Equal(t, want, num)
	require.Equal(t, protowire.BytesType, typ)
	v, m := protowire.ConsumeBytes(b[n:])
	require.GreaterOrEqual(t, m, 0)
	return v, b[n+m:]
}

func TestStreamProtoErrors(t *testing.T) {
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(manySpans(10))
	require.NoError(t, err)
	dir := t.TempDir()
	for name, in := range map[string][]byte{
		"truncated":       raw[:len(raw)-5],
		"length too big":  {0x0a, 0xff, 0xff, 0xff, 0x7f},
		"group":           {0x0b},
		"field zero":      {0x02, 0x00},
		"inner too big":   {0x0a, 0x03, 0x12, 0x7f, 0x00},
		"inner truncated": {0x0a, 0x02, 0x0a, 0x05},
	} {
		err := source.Stream(bytes.NewReader(in), "f.pb", func([]*trace.Span) error { return nil }, source.WithFormat(source.FormatOTLPProto))
		require.ErrorContains(t, err, "f.pb: invalid OTLP protobuf", name)
		path := filepath.Join(dir, "f.pb")
		require.NoError(t, os.WriteFile(path, in, 0o644))
		err = source.StreamFile(path, func([]*trace.Span) error { return nil }, source.WithFormat(source.FormatOTLPProto))
		require.ErrorContains(t, err, "f.pb: invalid OTLP protobuf", name)
	}
}

func TestStreamJSONPerDocument(t *testing.T) {
	var docs []int
	err := source.StreamFile(golden.ShopFile(), func(spans []*trace.Span) error {
		docs = append(docs, len(spans))
		return nil
	})
	require.NoError(t, err)
	require.Len(t, docs, 160, "one call per line of the JSON Lines file")

	stop := errors.New("stop")
	calls := 0
	err = source.StreamFile(golden.ShopFile(), func([]*trace.Span) error { calls++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
}

// Line numbers stay right far into a file although the reader forgets the
// newlines of documents it has decoded.
func TestStreamJSONLineNumbersAfterTrim(t *testing.T) {
	good, err := (&ptrace.JSONMarshaler{}).MarshalTraces(manySpans(3))
	require.NoError(t, err)
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		b.Write(good)
		b.WriteString("\n")
		if i%100 == 0 {
			b.WriteString("\n") // blank lines count
		}
	}
	b.WriteString(`{"resourceSpans": [}` + "\n")
	err = source.Stream(strings.NewReader(b.String()), "long.jsonl", func([]*trace.Span) error { return nil })
	require.ErrorContains(t, err, "long.jsonl:5051: invalid JSON")
}

func TestStreamJSONDocumentLimit(t *testing.T) {
	good, err := (&ptrace.JSONMarshaler{}).MarshalTraces(manySpans(2000))
	require.NoError(t, err)
	in := "\n" + string(good) + "\n"
	err = source.Stream(strings.NewReader(in), "huge.jsonl", func([]*trace.Span) error { return nil }, source.WithMaxDocumentBytes(64<<10))
	require.ErrorContains(t, err, "huge.jsonl:2: a JSON document larger than 65536 bytes")
	err = source.Stream(strings.NewReader(in), "huge.jsonl", func([]*trace.Span) error { return nil }, source.WithMaxDocumentBytes(int64(len(good))+1))
	require.NoError(t, err)
}

// FuzzStreamOTLPProto feeds the span-by-span protobuf reader arbitrary
// bytes, from a file (reading ahead for resources) and from a stream.
func FuzzStreamOTLPProto(f *testing.F) {
	raw, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(manySpans(3))
	f.Add(raw)
	f.Add([]byte{0x0a, 0x03, 0x12, 0x7f, 0x00})
	f.Add([]byte{0x0a, 0x04, 0x12, 0x02, 0x12, 0x00})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		var n int
		count := func(spans []*trace.Span) error { n += len(spans); return nil }
		errStream := source.Stream(bytes.NewReader(b), "fuzz", count, source.WithFormat(source.FormatOTLPProto))
		streamed := n
		path := filepath.Join(dir, "f.pb")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		n = 0
		errFile := source.StreamFile(path, count, source.WithFormat(source.FormatOTLPProto))
		if (errStream == nil) != (errFile == nil) || (errStream == nil && n != streamed) {
			t.Fatalf("stream: %d spans, %v; file: %d spans, %v", streamed, errStream, n, errFile)
		}
	})
}

// Strings full of escapes, across the reader's buffer boundaries (the
// splitter jumps over string contents): every document is found, the
// escaped braces and quotes do not end one, and lines still count.
func TestStreamJSONEscapesAcrossChunks(t *testing.T) {
	const ids = `"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"01020304050607%02x"`
	name := strings.Repeat(`\"}{\\`, 70_000) // 420 KB, over the 256 KiB buffer
	var b strings.Builder
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&b, `{"resourceSpans":[{"scopeSpans":[{"spans":[{`+ids+`,"name":"%s"}]}]}]}`+"\n", i+1, name)
	}
	b.WriteString("\n" + `{"resourceSpans": [}` + "\n")
	var got []*trace.Span
	err := source.Stream(strings.NewReader(b.String()), "esc.jsonl", func(spans []*trace.Span) error {
		got = append(got, spans...)
		return nil
	})
	require.ErrorContains(t, err, "esc.jsonl:5: invalid JSON")
	require.Len(t, got, 3)
	require.Equal(t, strings.Repeat(`"}{\`, 70_000), got[2].Name)
	require.Equal(t, "0102030405060703", got[2].SpanID)
}
