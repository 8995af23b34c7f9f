package red_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/red"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

func TestGolden(t *testing.T) {
	r := red.Compute(trace.ExcludeTraffic(golden.Shop(t), "load-test")) // the CLI default
	for name, write := range map[string]func(*red.Report, *bytes.Buffer) error{
		"red.txt":  func(r *red.Report, b *bytes.Buffer) error { return r.WriteTable(b) },
		"red.csv":  func(r *red.Report, b *bytes.Buffer) error { return r.WriteCSV(b) },
		"red.json": func(r *red.Report, b *bytes.Buffer) error { return r.WriteJSON(b) },
	} {
		var b bytes.Buffer
		if err := write(r, &b); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, name, b.Bytes())
	}
}

func TestWeightedRate(t *testing.T) {
	mk := golden.Mk
	half := map[string]any{"sampling.probability": 0.5}
	spans := []*trace.Span{
		mk("a", "1", "", "edge", "GET /", trace.KindServer, 0, 100, half),
		mk("a", "2", "1", "edge", "GET", trace.KindClient, 0, 100, half), // not counted
		mk("b", "3", "", "edge", "GET /", trace.KindServer, 9900, 10000, nil),
	}
	spans[2].Error = true
	r := red.Compute(trace.Assemble(spans))
	if len(r.Rows) != 1 {
		t.Fatalf("rows: %+v", r.Rows)
	}
	row := r.Rows[0]
	// Weighted count 2+1 = 3 over a 10s window; 1 of 3 weighted errors.
	if row.Count != 2 || row.Weighted != 3 || row.Rate != 0.3 || row.Errors != 1 || row.ErrorRatio != 0.333333 || row.P50 != 100*time.Millisecond {
		t.Errorf("row: %+v", row)
	}
}
