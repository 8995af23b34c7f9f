// Package golden holds the analysis tools' golden-file helpers and the path
// of the recorded span file. Run `go test ./analysis/... ./cmd/flowtrace
// -update` to rewrite the golden files after an intended change or after
// replacing the recorded span file.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Update is the -update flag: rewrite golden files instead of comparing.
var Update = flag.Bool("update", false, "rewrite golden files (and the generated span file)")

// Testdata returns the absolute path of analysis/testdata.
func Testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// ShopFile is the recorded span file every golden test reads.
func ShopFile() string { return filepath.Join(Testdata(), "shop.jsonl") }

// Shop loads the recorded span file as traces.
func Shop(t testing.TB) []*trace.Trace {
	t.Helper()
	spans, err := source.ReadFile(ShopFile())
	if err != nil {
		t.Fatal(err)
	}
	return trace.Assemble(spans)
}

// Check compares got with testdata/golden/name, or rewrites it with -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join(Testdata(), "golden", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (rerun with -update if intended)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// SLOFile is the SLO definitions the golden tests use.
func SLOFile() string { return filepath.Join(Testdata(), "slos.yaml") }

// T0 is the time hand-built test spans count from.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Mk builds a span for hand-made test traces; start and end are
// milliseconds after T0. attrs may be nil.
func Mk(traceID, id, parent, service, name string, kind trace.Kind, start, end int, attrs map[string]any) *trace.Span {
	if attrs == nil {
		attrs = map[string]any{}
	}
	return &trace.Span{TraceID: traceID, SpanID: id, ParentID: parent, Service: service, Name: name, Kind: kind,
		Start: T0.Add(time.Duration(start) * time.Millisecond), End: T0.Add(time.Duration(end) * time.Millisecond),
		Attributes: attrs, Resource: map[string]any{"service.name": service}}
}

// Model loads one of the hand-written OTLP files of testdata/model (broken
// traces, clock skew, uninstrumented peers, links, retries) as traces.
func Model(t testing.TB, name string) []*trace.Trace {
	t.Helper()
	spans, err := source.ReadFile(filepath.Join(Testdata(), "model", name))
	if err != nil {
		t.Fatal(err)
	}
	return trace.Assemble(spans)
}
