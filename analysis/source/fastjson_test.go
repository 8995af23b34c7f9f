package source

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/analysis/internal/shopdata"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/internal/scalegen"
)

// viaPdata is the reference decoding: pdata, then FromPtrace.
func viaPdata(doc []byte) ([]*trace.Span, error) {
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(doc)
	if err != nil {
		return nil, err
	}
	return FromPtrace(td)
}

// documents splits JSON Lines input the way the reader does.
func documents(t testing.TB, b []byte) [][]byte {
	d := &docReader{br: bufio.NewReader(bytes.NewReader(b)), line: 1}
	var docs [][]byte
	for {
		doc, _, err := d.next()
		if err != nil {
			return docs
		}
		docs = append(docs, bytes.Clone(doc))
	}
}

// The files flowtrace and the generators write all take the fast path,
// and it gives exactly what pdata gives.
func TestFastJSONMatchesPdataOnFiles(t *testing.T) {
	inputs := map[string][]byte{}
	files, err := filepath.Glob("../testdata/*.jsonl")
	require.NoError(t, err)
	model, err := filepath.Glob("../testdata/model/*.jsonl")
	require.NoError(t, err)
	for _, f := range append(files, model...) {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		inputs[filepath.Base(f)] = b
	}
	var buf bytes.Buffer
	_, err = scalegen.Write(&buf, scalegen.Config{Spans: 3000, Seed: 7})
	require.NoError(t, err)
	inputs["scalegen"] = buf.Bytes()
	for i, td := range shopdata.Generate() {
		b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		require.NoError(t, err)
		inputs["pdata-"+string(rune('a'+i%26))] = b
	}
	require.GreaterOrEqual(t, len(inputs), 8)
	fd := newFastDecoder()
	for name, b := range inputs {
		docs := documents(t, b)
		require.NotEmpty(t, docs, name)
		for i, doc := range docs {
			want, err := viaPdata(doc)
			require.NoError(t, err, name)
			got, ok := fd.decode(doc)
			require.True(t, ok, "%s document %d: the fast decoder gave up", name, i)
			require.Equal(t, want, got, "%s document %d", name, i)
		}
	}
}

// Forms the fast decoder leaves to pdata: each is decoded (or refused)
// exactly as pdata does it.
func TestFastJSONFallsBack(t *testing.T) {
	const ids = `"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708"`
	for name, doc := range map[string]string{
		"snake case":      `{"resource_spans":[{"scope_spans":[{"spans":[{` + ids + `}]}]}]}`,
		"upper-case id":   `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"0102030405060708"}]}]}]}`,
		"zero trace id":   `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000000","spanId":"0102030405060708"}]}]}]}`,
		"missing span id": `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10"}]}]}]}`,
		"kind 9":          `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"kind":9}]}]}]}`,
		"time as number":  `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"startTimeUnixNano":1e3}]}]}]}`,
		"bytes value":     `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"attributes":[{"key":"b","value":{"bytesValue":"AQI="}}]}]}]}]}`,
		"surrogate":       `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"name":"\ud83d\ude00"}]}]}]}`,
		"double string":   `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"attributes":[{"key":"d","value":{"doubleValue":"1.5"}}]}]}]}]}`,
		"unknown field":   `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"futureField":{"a":[1,2]}}]}]}]}`,
		"duplicate field": `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"name":"a","name":"b"}]}]}]}`,
		"null":            `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"name":null}]}]}]}`,
		"truncated":       `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids,
		"two values":      `{"resourceSpans":[{"scopeSpans":[{"spans":[{` + ids + `,"attributes":[{"key":"x","value":{"stringValue":"a","intValue":"1"}}]}]}]}]}`,
	} {
		fd := newFastDecoder()
		_, ok := fd.decode([]byte(doc))
		require.False(t, ok, name)
		want, wantErr := viaPdata([]byte(doc))
		got := decodeDoc(fd, &ptrace.JSONUnmarshaler{}, "f", []byte(doc), 1)
		require.Equal(t, wantErr != nil, got.err != nil, "%s: %v / %v", name, wantErr, got.err)
		if wantErr == nil {
			require.Equal(t, want, got.spans, name)
		}
	}
}

// Forms exporters write that the fast decoder takes, with the values
// pdata gives them.
func TestFastJSONForms(t *testing.T) {
	doc := `{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"s","version":"1"},"spans":[` +
		`{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","parentSpanId":"0000000000000000",` +
		`"name":"caf\u00e9 \"x\"\/\n","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1000","endTimeUnixNano":2000,` +
		`"attributes":[{"key":"i","value":{"intValue":"-42"}},{"key":"j","value":{"intValue":7}},{"key":"f","value":{"doubleValue":1.5e-3}},` +
		`{"key":"b","value":{"boolValue":true}},{"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":"1"}]}}},` +
		`{"key":"m","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}}},{"key":"e","value":{}},{"key":"i","value":{"stringValue":"later"}}],` +
		`"events":[{"timeUnixNano":"1500","name":"exception","attributes":[]}],` +
		`"links":[{"traceId":"1102030405060708090a0b0c0d0e0f10","spanId":"1102030405060708","attributes":[]}],` +
		`"status":{"code":"STATUS_CODE_ERROR","message":"boom"},"flags":256}]}],` +
		`"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"late"}}]}}]}`
	fd := newFastDecoder()
	got, ok := fd.decode([]byte(doc))
	require.True(t, ok)
	want, err := viaPdata([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Len(t, got, 1)
	s := got[0]
	require.Equal(t, "late", s.Service)
	require.Equal(t, "café \"x\"/\n", s.Name)
	require.Equal(t, "", s.ParentID)
	require.Equal(t, trace.KindClient, s.Kind)
	require.True(t, s.Error)
	require.Equal(t, "later", s.Attributes["i"])
	require.Equal(t, int64(7), s.Attributes["j"])
	require.Nil(t, s.Attributes["e"])
	require.Equal(t, []trace.Link{{TraceID: "1102030405060708090a0b0c0d0e0f10", SpanID: "1102030405060708"}}, s.Links)
}

// FuzzFastJSONMatchesPdata: whatever the fast decoder accepts, pdata
// accepts too and decodes to the same spans.
func FuzzFastJSONMatchesPdata(f *testing.F) {
	good, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(shopdata.Generate()[0])
	f.Add(good)
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","kind":"SPAN_KIND_SERVER","startTimeUnixNano":"5","attributes":[{"key":"a","value":{"doubleValue":-0.5e2}}]}]}]}]}`))
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"\u00e9\t","status":{"code":2}}]}],"resource":{}}]}`))
	f.Add([]byte(`{"resourceSpans":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := newFastDecoder().decode(b)
		if !ok {
			return
		}
		want, err := viaPdata(b)
		if err != nil {
			t.Fatalf("fast decoder accepted what pdata refuses (%v)", err)
		}
		require.Equal(t, want, got)
	})
}

// A seeded run of what FuzzFastJSONMatchesPdata does, in every go test:
// documents the generators write, each cut, with bytes flipped, deleted,
// duplicated or replaced by JSON punctuation; whenever the fast decoder
// accepts one, pdata must accept it and decode the same spans.
func TestFastJSONMutationsMatchPdata(t *testing.T) {
	var buf bytes.Buffer
	_, err := scalegen.Write(&buf, scalegen.Config{Spans: 40, Batch: 4, Seed: 3})
	require.NoError(t, err)
	docs := documents(t, buf.Bytes())
	good, err := (&ptrace.JSONMarshaler{}).MarshalTraces(shopdata.Generate()[0])
	require.NoError(t, err)
	docs = append(docs, good[:min(len(good), 4000)])
	r := rand.New(rand.NewPCG(16, 16))
	const punct = `{}[]:,"\0123456789-.eE+ tfn`
	accepted := 0
	for i := 0; i < 3000; i++ {
		doc := bytes.Clone(docs[r.IntN(len(docs))])
		for range 1 + r.IntN(3) {
			p := r.IntN(len(doc))
			switch r.IntN(4) {
			case 0:
				doc[p] = punct[r.IntN(len(punct))]
			case 1:
				doc = append(doc[:p], doc[p+1:]...)
			case 2:
				doc = append(doc[:p], append([]byte{doc[p]}, doc[p:]...)...)
			default:
				doc[p] ^= 1 << r.IntN(8)
			}
			if len(doc) == 0 {
				doc = []byte("{}")
			}
		}
		got, ok := newFastDecoder().decode(doc)
		if !ok {
			continue
		}
		accepted++
		want, err := viaPdata(doc)
		require.NoError(t, err, "fast decoder accepted what pdata refuses: %q", doc)
		require.Equal(t, want, got, "%q", doc)
	}
	require.Greater(t, accepted, 100, "the mutations exercise the fast path")
}
