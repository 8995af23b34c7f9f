package live

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Type is a metric family's type, as the Prometheus text format names it.
type Type string

// Family types.
const (
	Counter   Type = "counter"
	Gauge     Type = "gauge"
	Histogram Type = "histogram"
)

// OverflowLabel is set to "true" on the one series of a family that
// counts what arrived after the family reached its series limit (the
// other labels are empty), as the OpenTelemetry SDK's cardinality limit
// does with otel.metric.overflow.
const OverflowLabel = "otel_metric_overflow"

// maxLabelBytes bounds a label value: span names and peer names come from
// the input, and one 1 MB name must not become a 1 MB series.
const maxLabelBytes = 256

// Family is one metric family of a [Snapshot].
type Family struct {
	Name, Help string
	Type       Type
	Labels     []string // label names, in order
	Series     []Series // sorted by label values
}

// Series is one series: label values in the order of [Family.Labels]
// (and OverflowLabel for the overflow series), a counter's or gauge's
// Value, or a histogram's cumulative Buckets (one per bound of
// [Snapshot.Bounds], then +Inf), Sum and Count. Counts are weighted by
// 1/sampling.probability, so counters are fractional; histogram counts
// are rounded to whole calls.
type Series struct {
	Values   []string
	Overflow bool
	Value    float64
	Buckets  []float64
	Sum      float64
	Count    float64
}

// family accumulates the series of one metric family under a limit.
type family struct {
	name, help string
	typ        Type
	labels     []string
	limit      int
	m          map[string]*series
	overflow   *series
	dropped    float64 // observations counted in overflow
	bounds     []float64
}

type series struct {
	values  []string
	value   float64
	buckets []float64 // per bucket, not cumulative; len(bounds)+1
	sum     float64
}

func newFamily(name, help string, typ Type, limit int, bounds []float64, labels ...string) *family {
	return &family{name: name, help: help, typ: typ, labels: labels, limit: limit, m: map[string]*series{}, bounds: bounds}
}

// clean makes an input string a bounded, valid UTF-8 label value.
func clean(s string) string {
	if len(s) > maxLabelBytes {
		s = s[:maxLabelBytes]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}

// get returns the series of values, or the overflow series once the
// family holds limit series.
func (f *family) get(values ...string) *series {
	for i, v := range values {
		values[i] = clean(v)
	}
	key := strings.Join(values, "\x00")
	if s := f.m[key]; s != nil {
		return s
	}
	if f.limit > 0 && len(f.m) >= f.limit {
		if f.overflow == nil {
			f.overflow = f.newSeries(make([]string, len(f.labels)))
		}
		f.dropped++
		return f.overflow
	}
	s := f.newSeries(slices.Clone(values))
	f.m[key] = s
	return s
}

func (f *family) newSeries(values []string) *series {
	s := &series{values: values}
	if f.typ == Histogram {
		s.buckets = make([]float64, len(f.bounds)+1)
	}
	return s
}

func (f *family) add(w float64, values ...string) { f.get(values...).value += w }

func (f *family) set(v float64, values ...string) { f.get(values...).value = v }

// observe adds a duration in seconds with weight w.
func (f *family) observe(secs, w float64, values ...string) {
	s := f.get(values...)
	i := sort.SearchFloat64s(f.bounds, secs) // first bound >= secs: Prometheus's le
	s.buckets[i] += w
	s.sum += secs * w
}

func (f *family) snapshot() Family {
	out := Family{Name: f.name, Help: f.help, Type: f.typ, Labels: f.labels}
	keys := make([]string, 0, len(f.m))
	for k := range f.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Series = append(out.Series, f.m[k].export())
	}
	if f.overflow != nil {
		s := f.overflow.export()
		s.Overflow = true
		out.Series = append(out.Series, s)
	}
	return out
}

func (s *series) export() Series {
	out := Series{Values: slices.Clone(s.values), Value: s.value, Sum: s.sum}
	if s.buckets != nil {
		// Cumulative counts are rounded to whole calls: OTLP histograms
		// (the collector connector's output) count in integers, and
		// serve must give the same series. Rounding the cumulative
		// counts keeps them monotonic; the sum keeps its fraction.
		out.Buckets = make([]float64, len(s.buckets))
		var c float64
		for i, b := range s.buckets {
			c += b
			out.Buckets[i] = math.Round(c)
		}
		out.Count = math.Round(c)
	}
	return out
}
