package source_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/internal/shopdata"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func TestReadShopFile(t *testing.T) {
	var reports []source.Progress
	spans, err := source.ReadFile(golden.ShopFile(), source.WithProgress(func(p source.Progress) { reports = append(reports, p) }, 100<<10))
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, td := range shopdata.Generate() {
		want += td.SpanCount()
	}
	if len(spans) != want {
		t.Errorf("got %d spans, want %d", len(spans), want)
	}
	if len(reports) < 2 || !reports[len(reports)-1].Done || reports[len(reports)-1].Spans != len(spans) {
		t.Errorf("progress reports: %+v", reports)
	}
	s := spans[0]
	if s.Service != "edge" || s.Kind != trace.KindServer || s.Team() != "edge-team" || len(s.TraceID) != 32 || len(s.SpanID) != 16 {
		t.Errorf("first span: %+v", s)
	}
}

func TestReadProtoAndGzip(t *testing.T) {
	td := shopdata.Generate()[0]
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pb := filepath.Join(dir, "req.pb")
	if err := os.WriteFile(pb, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	spans, err := source.ReadFile(pb)
	if err != nil || len(spans) != td.SpanCount() {
		t.Fatalf("proto: %d spans, %v", len(spans), err)
	}
	js, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(js)
	zw.Close()
	got, err := source.Read(&gz, "x.json.gz")
	if err != nil || len(got) != td.SpanCount() {
		t.Fatalf("gzip json: %d spans, %v", len(got), err)
	}
	if got[0].SpanID != spans[0].SpanID {
		t.Errorf("json and proto disagree")
	}
}

func TestReadErrorsNameLine(t *testing.T) {
	good, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(shopdata.Generate()[0])
	noTrace := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"0102030405060708","name":"x"}]}]}]}`
	for name, tc := range map[string]struct{ in, want string }{
		"syntax":        {string(good) + "\n" + string(good) + "\n{\"resourceSpans\": [}\n", "f.jsonl:3: invalid JSON"},
		"missing field": {string(good) + "\n\n" + noTrace + "\n", "f.jsonl:3: resourceSpans[0].scopeSpans[0].spans[0].traceId: missing"},
		"bad id":        {`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`, "f.jsonl:1: invalid OTLP/JSON"},
		"not object":    {string(good) + "\n[1,2]\n", "f.jsonl:2: want an OTLP"},
		"truncated":     {string(good) + "\n{\"resourceSpans\":[", "f.jsonl:2: truncated"},
		"proto garbage": {"\x0a\xff\xff", "f.jsonl: invalid OTLP protobuf"},
	} {
		_, err := source.Read(strings.NewReader(tc.in), "f.jsonl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	if spans, err := source.Read(strings.NewReader("  \n"), "empty"); err != nil || len(spans) != 0 {
		t.Errorf("blank file: %v", err)
	}
}

func FuzzReadOTLPJSON(f *testing.F) {
	good, _ := (&ptrace.JSONMarshaler{}).MarshalTraces(shopdata.Generate()[0])
	f.Add(good)
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","kind":9,"startTimeUnixNano":"5","endTimeUnixNano":"1"}]}]}]}`))
	f.Add([]byte("{}\n{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		spans, err := source.Read(bytes.NewReader(b), "fuzz", source.WithFormat(source.FormatOTLPJSON))
		if err == nil {
			for _, tr := range trace.Assemble(spans) {
				for _, s := range tr.Spans {
					_ = tr.SelfTime(s)
					_ = tr.Depth(s)
				}
			}
		}
	})
}
