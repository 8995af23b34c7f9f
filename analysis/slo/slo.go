package slo

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/analysis/internal/stats"
	"github.com/flowtrace/flowtrace/analysis/internal/timeline"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Event is one SLO event: a span that was good or bad.
type Event struct {
	Time   time.Time // span end
	Weight float64
	Bad    bool
	Trace  *trace.Trace
	Span   *trace.Span
}

// Events returns the events of s in traces, in trace order.
func Events(s SLO, traces []*trace.Trace) []Event {
	var out []Event
	add := func(t *trace.Trace, sp *trace.Span) {
		bad := sp.Error || (s.Latency > 0 && sp.Duration() > s.Latency)
		out = append(out, Event{Time: sp.End, Weight: t.SpanWeight(sp), Bad: bad, Trace: t, Span: sp})
	}
	for _, t := range traces {
		if s.CriticalOperation != "" {
			if r := t.Root(); r != nil && t.CriticalOperation() == s.CriticalOperation {
				add(t, r)
			}
			continue
		}
		for _, sp := range t.Spans {
			if sp.Name == s.Operation && (s.Service == "" || sp.Service == s.Service) && kindMatches(s.Kind, sp) {
				add(t, sp)
			}
		}
	}
	return out
}

// kindMatches applies an SLO's kind: by default the spans where a service
// receives work (server, consumer), so that one request is one event and
// not two (the caller's client span and the callee's server span share a
// name in most instrumentations).
func kindMatches(k trace.Kind, sp *trace.Span) bool {
	if k == trace.KindUnspecified {
		return sp.Receives()
	}
	return sp.Kind == k
}

// BurnRate returns how fast a bad ratio spends the error budget of target:
// (bad/total) / (1-target). It is 0 when total is 0.
func BurnRate(bad, total, target float64) float64 {
	if total <= 0 {
		return 0
	}
	return (bad / total) / (1 - target)
}

// burns reports whether rate reaches threshold, tolerating float rounding
// (0.0144/(1-0.999) is 14.399999999999991).
func burns(rate, threshold float64) bool { return rate >= threshold*(1-1e-9) }

// Alert is the evaluation of one alert rule.
type Alert struct {
	Severity  string        `json:"severity"`
	Long      time.Duration `json:"long_ns"`
	Short     time.Duration `json:"short_ns"`
	Threshold float64       `json:"burn_rate_threshold"`
	LongBurn  float64       `json:"long_burn_rate"`
	ShortBurn float64       `json:"short_burn_rate"`
	Firing    bool          `json:"firing"`
}

// Result is one SLO's evaluation.
type Result struct {
	Name     string        `json:"name"`
	Selector string        `json:"selector"`
	Target   float64       `json:"target"`
	Window   time.Duration `json:"window_ns"`
	Latency  time.Duration `json:"latency_ns,omitempty"`
	Events   int           `json:"events"` // observed, in the SLO window
	// Matched is the observed events in all of the data, inside the window
	// or not. Zero means the selector matches nothing: Error says so.
	Matched int `json:"matched_events"`
	// Error is set when the result cannot be trusted: the selector
	// matches no span of the data (a typo, or data from elsewhere).
	Error string `json:"error,omitempty"`
	// Coverage is the fraction of the SLO window the data covers (from the
	// earliest span start to the latest span end, clipped to the window):
	// 4 days of data in a 28-day window is 0.142857.
	Coverage float64 `json:"window_coverage"`
	// Covered is that length of time.
	Covered time.Duration `json:"covered_ns"`
	// EdgeResolution is 0 when every event was kept exactly; on inputs
	// with more events than an [Evaluator] keeps exactly, it is the width
	// of the time buckets its events were merged into, to which the
	// windows' edges are resolved.
	EdgeResolution time.Duration `json:"window_edge_resolution_ns,omitempty"`
	Total          float64       `json:"weighted_total"`
	Good           float64       `json:"weighted_good"`
	Compliant      float64       `json:"compliance"` // Good/Total; 1 with no events
	// BudgetLeft is the fraction of the error budget not spent:
	// 1 - (bad ratio)/(1-target); negative when overspent.
	BudgetLeft float64 `json:"error_budget_remaining"`
	// Breaching is true when compliance is below target.
	Breaching bool    `json:"breaching"`
	Alerts    []Alert `json:"alerts"`
}

// Firing reports whether any alert fires.
func (r Result) Firing() bool {
	for _, a := range r.Alerts {
		if a.Firing {
			return true
		}
	}
	return false
}

// Report is the evaluation of every SLO at one time.
type Report struct {
	Now time.Time `json:"evaluated_at"`
	// DataStart and DataEnd bound the data evaluated (earliest span start,
	// latest span end).
	DataStart time.Time `json:"data_start"`
	DataEnd   time.Time `json:"data_end"`
	Results   []Result  `json:"slos"`
}

// Errors returns the results' errors, each prefixed with the SLO's name.
func (r *Report) Errors() []string {
	var out []string
	for _, x := range r.Results {
		if x.Error != "" {
			out = append(out, "SLO "+x.Name+": "+x.Error)
		}
	}
	return out
}

// Firing reports whether any alert of any SLO fires.
func (r *Report) Firing() bool {
	for _, x := range r.Results {
		if x.Firing() {
			return true
		}
	}
	return false
}

// Evaluate evaluates cfg at now (use [Latest] for recorded data).
func Evaluate(cfg *Config, traces []*trace.Trace, now time.Time) *Report {
	e := NewEvaluator(cfg)
	for _, t := range traces {
		e.Add(t)
	}
	return e.Report(now)
}

// Evaluator evaluates SLOs trace by trace ([Evaluate] is a loop over it),
// for streamed input: the time to evaluate at is only known at the end
// (the latest span end, [Evaluator.Latest]), so each SLO keeps its events
// by time in a bounded timeline. Up to [timeline.DefaultExact] (262,144)
// events per SLO are kept exactly (16 bytes each) and the results are
// those of the whole data in memory; past that they are merged into time
// buckets, and [Result.EdgeResolution] says how wide: each window's start
// is then resolved to a bucket (its end, the latest span end by default,
// stays exact).
type Evaluator struct {
	cfg        *Config
	lines      []*timeline.Timeline[tally]
	matched    []int
	start, end time.Time
}

// tally is weighted bad and total events and their number.
type tally struct {
	bad, total float64
	n          int
}

func addTally(d *tally, s tally) {
	d.bad += s.bad
	d.total += s.total
	d.n += s.n
}

// NewEvaluator returns an Evaluator of cfg's SLOs.
func NewEvaluator(cfg *Config) *Evaluator { return newEvaluator(cfg, 0, 0) }

// newEvaluator bounds the timelines (0: the defaults).
func newEvaluator(cfg *Config, exact, buckets int) *Evaluator {
	e := &Evaluator{cfg: cfg, matched: make([]int, len(cfg.SLOs))}
	for range cfg.SLOs {
		e.lines = append(e.lines, timeline.New(exact, buckets, addTally))
	}
	return e
}

// Add adds the events of one trace.
func (e *Evaluator) Add(t *trace.Trace) {
	for _, s := range t.Spans {
		if e.start.IsZero() || s.Start.Before(e.start) {
			e.start = s.Start
		}
		if s.End.After(e.end) {
			e.end = s.End
		}
	}
	one := []*trace.Trace{t}
	for i, s := range e.cfg.SLOs {
		for _, ev := range Events(s, one) {
			e.matched[i]++
			v := tally{total: ev.Weight, n: 1}
			if ev.Bad {
				v.bad = ev.Weight
			}
			e.lines[i].Add(ev.Time, v)
		}
	}
}

// Latest returns the latest span end added: what [Latest] returns for
// the same traces.
func (e *Evaluator) Latest() time.Time { return e.end }

// Report evaluates the SLOs at now over the traces added.
func (e *Evaluator) Report(now time.Time) *Report {
	rep := &Report{Now: now, DataStart: e.start, DataEnd: e.end}
	for i, s := range e.cfg.SLOs {
		r := evaluate(s, e.cfg.Alerts, e.lines[i], e.matched[i], now)
		r.Covered, r.Coverage = coverage(rep.DataStart, rep.DataEnd, now, s.Window)
		rep.Results = append(rep.Results, r)
	}
	return rep
}

// coverage returns how much of the window (now-w, now] the data
// [start, end] covers, as a duration and as a fraction of w.
func coverage(start, end, now time.Time, w time.Duration) (time.Duration, float64) {
	if start.IsZero() || w <= 0 {
		return 0, 0
	}
	from, to := now.Add(-w), now
	if start.After(from) {
		from = start
	}
	if end.Before(to) {
		to = end
	}
	if !to.After(from) {
		return 0, 0
	}
	d := to.Sub(from)
	return d, stats.Round(float64(d)/float64(w), 6)
}

// sum returns weighted bad and total of events in (now-w, now].
func sum(l *timeline.Timeline[tally], now time.Time, w time.Duration) (bad, total float64, n int) {
	var t tally
	l.Each(now.Add(-w), now, func(v tally) { addTally(&t, v) })
	return t.bad, t.total, t.n
}

func evaluate(s SLO, rules []AlertRule, evs *timeline.Timeline[tally], matched int, now time.Time) Result {
	r := Result{Name: s.Name, Selector: selector(s), Target: s.Target, Window: s.Window, Latency: s.Latency, EdgeResolution: evs.Resolution()}
	bad, total, n := sum(evs, now, s.Window)
	r.Matched = matched
	if r.Matched == 0 {
		r.Error = "no span in the data matches " + selector(s) + ": compliance cannot be computed (check the selector; events are server and consumer spans unless kind is given)"
	}
	r.Events, r.Total, r.Good = n, stats.Round(total, 6), stats.Round(total-bad, 6)
	r.Compliant, r.BudgetLeft = 1, 1
	if total > 0 {
		r.Compliant = stats.Round((total-bad)/total, 6)
		r.BudgetLeft = stats.Round(1-BurnRate(bad, total, s.Target), 6)
		r.Breaching = (total-bad)/total < s.Target
	}
	for _, rule := range rules {
		lb, lt, _ := sum(evs, now, rule.Long)
		sb, st, _ := sum(evs, now, rule.Short)
		th := rule.Threshold(s.Window)
		a := Alert{Severity: rule.Severity, Long: rule.Long, Short: rule.Short, Threshold: stats.Round(th, 6),
			LongBurn: BurnRate(lb, lt, s.Target), ShortBurn: BurnRate(sb, st, s.Target)}
		a.Firing = burns(a.LongBurn, th) && burns(a.ShortBurn, th)
		a.LongBurn, a.ShortBurn = stats.Round(a.LongBurn, 4), stats.Round(a.ShortBurn, 4)
		r.Alerts = append(r.Alerts, a)
	}
	return r
}

func selector(s SLO) string {
	var b strings.Builder
	if s.CriticalOperation != "" {
		b.WriteString("critical_operation=" + s.CriticalOperation)
	} else {
		svc := s.Service
		if svc == "" {
			svc = "*"
		}
		b.WriteString(svc + " " + s.Operation)
		if s.Kind != trace.KindUnspecified {
			b.WriteString(" (" + s.Kind.String() + ")")
		}
	}
	if s.Latency > 0 {
		b.WriteString(fmt.Sprintf(", latency <= %s", s.Latency))
	}
	return b.String()
}

// Latest returns the latest span end in traces: the evaluation time that
// makes a recorded file evaluate the same way every time.
func Latest(traces []*trace.Trace) time.Time {
	_, end := trace.Window(traces)
	return end
}

// WriteText writes a human-readable report.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "evaluated at %s\n", r.Now.UTC().Format(time.RFC3339Nano))
	for _, x := range r.Results {
		fmt.Fprintf(&b, "\nSLO %s (%s)\n", x.Name, x.Selector)
		fmt.Fprintf(&b, "  target %s over %s: %d events (weighted %g), good %g\n", pct(x.Target), fmtWindow(x.Window), x.Events, x.Total, x.Good)
		if x.Coverage >= 1 {
			fmt.Fprintf(&b, "  data covers the whole %s window\n", fmtWindow(x.Window))
		} else {
			fmt.Fprintf(&b, "  data covers %s of the %s window (%s): compliance and budget are for that part only\n",
				fmtCovered(x.Covered), fmtWindow(x.Window), pct(x.Coverage))
		}
		if x.EdgeResolution > 0 {
			fmt.Fprintf(&b, "  more events than kept exactly: the window's start resolved to %s\n", x.EdgeResolution)
		}
		if x.Error != "" {
			fmt.Fprintf(&b, "  ERROR: %s\n", x.Error)
			continue
		}
		state := "ok"
		if x.Breaching {
			state = "BREACHING"
		}
		fmt.Fprintf(&b, "  compliance %s, error budget left %s: %s\n", pct(x.Compliant), pct(x.BudgetLeft), state)
		for _, a := range x.Alerts {
			fire := "ok"
			if a.Firing {
				fire = "FIRING"
			}
			fmt.Fprintf(&b, "  %-6s burn >= %-5s  %4s: %8.2f  %4s: %8.2f  %s\n", a.Severity, strconv.FormatFloat(stats.Round(a.Threshold, 2), 'f', -1, 64),
				fmtWindow(a.Long), a.LongBurn, fmtWindow(a.Short), a.ShortBurn, fire)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", 100*x), "0"), ".") + "%"
}

// fmtCovered formats a covered time: days and hours from a day up, else a
// duration to the second (to the millisecond below a second).
func fmtCovered(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d >= day:
		days, rest := d/day, (d % day).Round(time.Hour)
		if rest == day {
			days, rest = days+1, 0
		}
		if rest == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, rest/time.Hour)
	case d >= time.Second:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

func fmtWindow(d time.Duration) string {
	day := 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	switch {
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// WriteJSON writes the report as indented JSON; durations in nanoseconds.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
