package estimate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/flowtrace/flowtrace/analysis/internal/stats"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// MinTraces is the number of traces below which an estimate is flagged as
// resting on too few traces.
const MinTraces = 30

// Fanout is how often one operation is called per matching trace.
type Fanout struct {
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	Spans     int     `json:"spans"`  // observed
	PerTrace  float64 `json:"fanout"` // weighted spans / weighted traces
	PerSecond float64 `json:"expected_per_second"`
}

// TopicFanout is how many messages one topic receives per matching trace.
type TopicFanout struct {
	Topic     string  `json:"topic"`
	Messages  int     `json:"messages"` // observed producer spans
	PerTrace  float64 `json:"fanout"`
	PerSecond float64 `json:"expected_per_second"`
}

// Operation is the estimate for one forecast key.
type Operation struct {
	Key       string        `json:"key"`
	MatchedBy string        `json:"matched_by"` // critical_operation, root span name, or none
	Forecast  float64       `json:"forecast_per_second"`
	Traces    int           `json:"traces"`          // observed matching traces
	Weighted  float64       `json:"weighted_traces"` // the same, weighted
	Fanout    []Fanout      `json:"fanout"`
	Topics    []TopicFanout `json:"topics"`
	Warning   string        `json:"warning,omitempty"`
}

// Load is the expected total rate of one service operation.
type Load struct {
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	PerSecond float64 `json:"expected_per_second"`
	Spans     int     `json:"spans"` // observed spans the estimate rests on
}

// TopicLoad is the expected total message rate of one topic.
type TopicLoad struct {
	Topic     string  `json:"topic"`
	PerSecond float64 `json:"expected_per_second"`
	Messages  int     `json:"messages"`
}

// Estimate is the result of [Compute].
type Estimate struct {
	Operations []Operation `json:"operations"`
	Services   []Load      `json:"services"` // by service, then operation
	Topics     []TopicLoad `json:"topics"`
}

// Compute estimates the load behind the edge for a forecast from observed
// traces (see the package documentation).
func Compute(traces []*trace.Trace, forecast []Demand) *Estimate {
	est := &Estimate{}
	type opKey struct{ svc, op string }
	loads := map[opKey]*Load{}
	topics := map[string]*TopicLoad{}
	for _, d := range forecast {
		o := Operation{Key: d.Key, Forecast: d.PerSecond, MatchedBy: "critical_operation"}
		match := func(t *trace.Trace) bool { return t.CriticalOperation() == d.Key }
		if !slices.ContainsFunc(traces, match) {
			o.MatchedBy = "root span name"
			match = func(t *trace.Trace) bool { r := t.Root(); return r != nil && r.Name == d.Key }
			if !slices.ContainsFunc(traces, match) {
				o.MatchedBy = "none"
			}
		}
		type acc struct {
			n int
			w float64
		}
		ops := map[opKey]*acc{}
		tops := map[string]*acc{}
		for _, t := range traces {
			if !match(t) {
				continue
			}
			o.Traces++
			o.Weighted += t.Weight()
			for _, s := range t.Spans {
				w := t.SpanWeight(s)
				if s.Receives() {
					a := ops[opKey{s.Service, s.Name}]
					if a == nil {
						a = &acc{}
						ops[opKey{s.Service, s.Name}] = a
					}
					a.n++
					a.w += w
				}
				if topic := s.Str("messaging.destination.name"); topic != "" && s.Kind == trace.KindProducer && s.Str("messaging.system") == "kafka" {
					a := tops[topic]
					if a == nil {
						a = &acc{}
						tops[topic] = a
					}
					a.n++
					a.w += w
				}
			}
		}
		switch {
		case o.Traces == 0:
			o.Warning = "no matching traces: nothing to estimate from"
		case o.Traces < MinTraces:
			o.Warning = fmt.Sprintf("rests on only %d traces (< %d): low confidence", o.Traces, MinTraces)
		}
		for k, a := range ops {
			f := stats.Ratio(a.w, o.Weighted)
			o.Fanout = append(o.Fanout, Fanout{Service: k.svc, Operation: k.op, Spans: a.n, PerTrace: stats.Round(f, 6), PerSecond: stats.Round(f*d.PerSecond, 6)})
			l := loads[k]
			if l == nil {
				l = &Load{Service: k.svc, Operation: k.op}
				loads[k] = l
			}
			l.PerSecond += f * d.PerSecond
			l.Spans += a.n
		}
		for topic, a := range tops {
			f := stats.Ratio(a.w, o.Weighted)
			o.Topics = append(o.Topics, TopicFanout{Topic: topic, Messages: a.n, PerTrace: stats.Round(f, 6), PerSecond: stats.Round(f*d.PerSecond, 6)})
			l := topics[topic]
			if l == nil {
				l = &TopicLoad{Topic: topic}
				topics[topic] = l
			}
			l.PerSecond += f * d.PerSecond
			l.Messages += a.n
		}
		o.Weighted = stats.Round(o.Weighted, 6)
		slices.SortFunc(o.Fanout, func(a, b Fanout) int {
			return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Operation, b.Operation))
		})
		slices.SortFunc(o.Topics, func(a, b TopicFanout) int { return strings.Compare(a.Topic, b.Topic) })
		est.Operations = append(est.Operations, o)
	}
	for _, l := range loads {
		l.PerSecond = stats.Round(l.PerSecond, 6)
		est.Services = append(est.Services, *l)
	}
	slices.SortFunc(est.Services, func(a, b Load) int {
		return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Operation, b.Operation))
	})
	for _, l := range topics {
		l.PerSecond = stats.Round(l.PerSecond, 6)
		est.Topics = append(est.Topics, *l)
	}
	slices.SortFunc(est.Topics, func(a, b TopicLoad) int { return strings.Compare(a.Topic, b.Topic) })
	return est
}

// Warnings returns the per-operation warnings, prefixed with the key.
func (e *Estimate) Warnings() []string {
	var out []string
	for _, o := range e.Operations {
		if o.Warning != "" {
			out = append(out, o.Key+": "+o.Warning)
		}
	}
	return out
}

// WriteText writes the fan-out per operation and the expected totals.
func (e *Estimate) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, o := range e.Operations {
		fmt.Fprintf(tw, "%s at %g/s (matched by %s; %d traces, weighted %g)\n", o.Key, o.Forecast, o.MatchedBy, o.Traces, o.Weighted)
		if o.Warning != "" {
			fmt.Fprintf(tw, "  warning: %s\n", o.Warning)
		}
		fmt.Fprintln(tw, "  SERVICE\tOPERATION\tSPANS\tFAN-OUT\tCALLS/s")
		for _, f := range o.Fanout {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%.4f\t%.1f\n", f.Service, f.Operation, f.Spans, f.PerTrace, f.PerSecond)
		}
		for _, f := range o.Topics {
			fmt.Fprintf(tw, "  topic %s\t(produce)\t%d\t%.4f\t%.1f\n", f.Topic, f.Messages, f.PerTrace, f.PerSecond)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintln(tw, "expected load")
	fmt.Fprintln(tw, "  SERVICE\tOPERATION\tCALLS/s\tSPANS")
	for _, l := range e.Services {
		fmt.Fprintf(tw, "  %s\t%s\t%.1f\t%d\n", l.Service, l.Operation, l.PerSecond, l.Spans)
	}
	for _, l := range e.Topics {
		fmt.Fprintf(tw, "  topic %s\t(messages)\t%.1f\t%d\n", l.Topic, l.PerSecond, l.Messages)
	}
	return tw.Flush()
}

// WriteJSON writes the estimate as indented JSON.
func (e *Estimate) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(e)
}
