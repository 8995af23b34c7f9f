package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/flowtrace/flowtrace/internal/scalegen"
)

// BenchmarkScale runs deps, red, estimate, slo and triage on a generated
// span file:
// FLOWTRACE_SCALE_SPANS spans (20,000 by default, so CI's single run stays
// short). docs/performance.md has the 1M and 10M figures, measured with
// scripts/scale.sh (peak RSS needs a process of its own).
func BenchmarkScale(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("FLOWTRACE_SCALE_SPANS")); err == nil && v > 0 {
		n = v
	}
	path := filepath.Join(b.TempDir(), "spans.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	st, err := scalegen.Write(f, scalegen.Config{Spans: n, Seed: 1})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	slos := filepath.Join(b.TempDir(), "slos.yaml")
	if err := os.WriteFile(slos, []byte(`slos:
  - {name: checkout, critical_operation: checkout, target: 0.999, window: 28d}
  - {name: browse-latency, service: edge, operation: GET /browse, latency: 40ms, target: 0.99, window: 28d}
`), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, args := range [][]string{
		{"deps"},
		{"slo", "--slos", slos},
		{"triage", "--slos", slos},
		{"red"},
		{"estimate", "--forecast", "checkout=1200/s,browse=30000/s,add-to-cart=4000/s"},
	} {
		b.Run(args[0], func(b *testing.B) {
			for b.Loop() {
				if code := run(append(append(args, "--quiet"), path), io.Discard, io.Discard); code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(st.Spans)*float64(b.N)/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
		})
	}
}
