package red

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/stats"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Row is the golden signals of one service operation.
type Row struct {
	Service    string        `json:"service"`
	Operation  string        `json:"operation"`
	Kind       string        `json:"kind"` // server or consumer
	Count      int           `json:"count"`
	Weighted   float64       `json:"weighted_count"`
	Rate       float64       `json:"rate_per_second"`
	Errors     float64       `json:"weighted_errors"`
	ErrorRatio float64       `json:"error_ratio"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
}

// Report is the RED table over a time window.
type Report struct {
	Start  time.Time     `json:"window_start"`
	End    time.Time     `json:"window_end"`
	Window time.Duration `json:"window_ns"`
	Rows   []Row         `json:"rows"` // by service, then operation
	// Integrity is what was broken or corrected in the data.
	Integrity trace.Integrity `json:"integrity"`
}

// Compute computes RED rows from traces, after correcting each trace's
// clock skew ([trace.CorrectAll]); the window is taken from the corrected
// spans.
func Compute(traces []*trace.Trace) *Report {
	a := NewAggregator()
	for _, t := range traces {
		a.Add(t)
	}
	return a.Report()
}

// Aggregator computes a [Report] trace by trace, in memory that does not
// grow with the number of traces: each trace is corrected as it comes
// ([trace.StreamCorrector]), then counted, with a mergeable duration sketch per
// service operation ([stats.Sketch]: exact up to 1024 spans, then within
// 1% relative error).
type Aggregator struct {
	corr       *trace.StreamCorrector
	accs       map[opKey]*acc
	start, end time.Time
}

type opKey struct{ svc, op string }

type acc struct {
	kind    trace.Kind
	n       int
	w, werr float64
	lat     stats.Sketch
}

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{corr: trace.NewStreamCorrector(trace.DefaultMaxSkew), accs: map[opKey]*acc{}}
}

// Add corrects and adds one trace.
func (g *Aggregator) Add(t *trace.Trace) {
	t, _, _ = g.corr.Correct(t)
	s0, e0 := trace.Window([]*trace.Trace{t})
	if !s0.IsZero() && (g.start.IsZero() || s0.Before(g.start)) {
		g.start = s0
	}
	if e0.After(g.end) {
		g.end = e0
	}
	for _, s := range t.Spans {
		if !s.Receives() {
			continue
		}
		k := opKey{s.Service, s.Name}
		a := g.accs[k]
		if a == nil {
			a = &acc{kind: s.Kind}
			g.accs[k] = a
		}
		w := t.SpanWeight(s)
		a.n++
		a.w += w
		if s.Error {
			a.werr += w
		}
		a.lat.Add(s.Duration(), w)
	}
}

// Report returns the report of the traces added so far.
func (g *Aggregator) Report() *Report {
	r := &Report{Integrity: g.corr.Integrity(), Start: g.start, End: g.end}
	r.Window = r.End.Sub(r.Start)
	for key, a := range g.accs {
		q := a.lat.Quantiles(0.5, 0.9, 0.99)
		row := Row{Service: key.svc, Operation: key.op, Kind: a.kind.String(), Count: a.n,
			Weighted: stats.Round(a.w, 6), Errors: stats.Round(a.werr, 6),
			ErrorRatio: stats.Round(stats.Ratio(a.werr, a.w), 6), P50: q[0], P90: q[1], P99: q[2]}
		if r.Window > 0 {
			row.Rate = stats.Round(a.w/r.Window.Seconds(), 6)
		}
		r.Rows = append(r.Rows, row)
	}
	slices.SortFunc(r.Rows, func(a, b Row) int {
		return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Operation, b.Operation))
	})
	return r
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

// WriteTable writes an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "window %s .. %s (%s)\n", r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), r.Window.Round(time.Millisecond))
	if note := r.Integrity.String(); note != "" {
		fmt.Fprintf(w, "data: %s\n", note)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tOPERATION\tKIND\tSPANS\tRATE/s\tERRORS\tERR%\tP50 ms\tP90 ms\tP99 ms")
	for _, x := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.3f\t%.1f\t%.2f\t%s\t%s\t%s\n", x.Service, x.Operation, x.Kind, x.Count,
			x.Rate, x.Errors, 100*x.ErrorRatio, ms(x.P50), ms(x.P90), ms(x.P99))
	}
	return tw.Flush()
}

// WriteCSV writes the rows as CSV with a header; durations in milliseconds.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"service", "operation", "kind", "spans", "weighted_count", "rate_per_second", "weighted_errors", "error_ratio", "p50_ms", "p90_ms", "p99_ms"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, x := range r.Rows {
		_ = cw.Write([]string{x.Service, x.Operation, x.Kind, strconv.Itoa(x.Count), f(x.Weighted), f(x.Rate), f(x.Errors),
			f(x.ErrorRatio), ms(x.P50), ms(x.P90), ms(x.P99)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the report as indented JSON; durations in nanoseconds.
// No rows is [] rather than null.
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	if out.Rows == nil {
		out.Rows = []Row{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
