package slorules

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/slo"
)

// The SLI counters the connector and `flowtrace serve` emit per SLO, with
// the SLO's name in label [LabelSLO]: package live names them, and the
// rules read what it writes. They are weighted by 1/sampling.probability,
// so they may be fractional.
const (
	MetricEvents     = live.MetricSLOEvents
	MetricGoodEvents = live.MetricSLOGood
	LabelSLO         = "slo"
)

// RecordPrefix is the name of the recording rules, followed by the window:
// flowtrace_slo:error_ratio:rate5m is the ratio of bad events over 5m.
const RecordPrefix = "flowtrace_slo:error_ratio:rate"

// AlertPrefix is the name of the alerts, followed by the severity with an
// upper-case first letter: FlowtraceSLOBurnPage, FlowtraceSLOBurnTicket.
const AlertPrefix = "FlowtraceSLOBurn"

// Options of [Generate].
type Options struct {
	// Owners names the team and channel of each SLO's owning service
	// ([slo.SLO.OwnerService]); nil gives no team labels.
	Owners *owners.Map
	// OwnersFile is the ownership file's path as the triage hint in the
	// alerts' annotations should name it; empty leaves --owners out.
	OwnersFile string
}

// File is a Prometheus rule file.
type File struct {
	Groups []Group `yaml:"groups"`
}

// Group is one rule group: evaluated in order, so an SLO's alerts read
// the recording rules evaluated just before them.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is a recording rule (Record) or an alert (Alert).
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Generate returns the rules for cfg: for each SLO, one recording rule per
// window that an alert uses, and one alert per severity that fires when
// any of that severity's long/short window pairs both burn at least the
// threshold. Thresholds are [slo.AlertRule.Threshold] for the SLO's window
// — the same numbers `flowtrace slo` evaluates on traces. Warnings say
// which SLOs have no team label and why.
func Generate(cfg *slo.Config, opt Options) (*File, []string, error) {
	if len(cfg.Alerts) == 0 {
		return nil, nil, errors.New("the SLO file's alerts list is empty: no rules to write")
	}
	var sevs []string
	for _, a := range cfg.Alerts {
		if !validSeverity(a.Severity) {
			return nil, nil, fmt.Errorf("alert severity %q: want lower-case letters, digits and _ (it becomes part of an alert name)", a.Severity)
		}
		if !slices.Contains(sevs, a.Severity) {
			sevs = append(sevs, a.Severity)
		}
	}
	f := &File{}
	var warnings []string
	for _, s := range cfg.SLOs {
		labels := map[string]string{LabelSLO: s.Name}
		svc := s.OwnerService()
		switch o, ok := opt.Owners.Lookup(svc); {
		case svc == "":
			warnings = append(warnings, fmt.Sprintf("SLO %s: no team label (a critical-operation SLO names its owning service with owner: in the SLO file)", s.Name))
		case opt.Owners == nil:
			warnings = append(warnings, fmt.Sprintf("SLO %s: no team label (no ownership file; give --owners)", s.Name))
		case !ok:
			warnings = append(warnings, fmt.Sprintf("SLO %s: no team label (service %s is not in %s)", s.Name, svc, opt.Owners.Name()))
		default:
			labels["team"] = o.Team
			if o.Channel != "" {
				labels["channel"] = o.Channel
			}
		}
		g := Group{Name: "flowtrace-slo-" + s.Name}
		for _, w := range windows(cfg.Alerts) {
			g.Rules = append(g.Rules, Rule{Record: RecordPrefix + promDuration(w), Expr: errorRatio(s.Name, w), Labels: labels})
		}
		for _, sev := range sevs {
			g.Rules = append(g.Rules, alert(s, sev, cfg.Alerts, labels, opt))
		}
		f.Groups = append(f.Groups, g)
	}
	return f, warnings, nil
}

// AlertName is the name of the alert of a severity.
func AlertName(severity string) string {
	return AlertPrefix + strings.ToUpper(severity[:1]) + severity[1:]
}

func validSeverity(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// windows returns the long and short windows of the alert table, shortest
// first.
func windows(rules []slo.AlertRule) []time.Duration {
	var ws []time.Duration
	for _, a := range rules {
		for _, w := range []time.Duration{a.Short, a.Long} {
			if !slices.Contains(ws, w) {
				ws = append(ws, w)
			}
		}
	}
	slices.Sort(ws)
	return ws
}

// selector is the SLO's label matcher. PromQL strings take Go's escapes.
func selector(name string) string { return "{" + LabelSLO + "=" + strconv.Quote(name) + "}" }

// errorRatio is bad/total over w. The good counter may not exist yet when
// every event so far was bad: it counts as zero then, or a total outage
// from the start would never alert. With no events the ratio is NaN and
// no comparison holds, so silence does not page.
func errorRatio(name string, w time.Duration) string {
	sel, win := selector(name), "["+promDuration(w)+"]"
	total := "sum by (" + LabelSLO + ") (rate(" + MetricEvents + sel + win + "))"
	good := "sum by (" + LabelSLO + ") (rate(" + MetricGoodEvents + sel + win + "))"
	return "(\n  " + total + "\n  -\n  (" + good + " or " + total + " * 0)\n)\n/\n" + total + "\n"
}

func alert(s slo.SLO, sev string, rules []slo.AlertRule, labels map[string]string, opt Options) Rule {
	budget := "(1 - " + formatFloat(s.Target) + ")"
	var parts, desc []string
	for _, a := range rules {
		if a.Severity != sev {
			continue
		}
		th := formatFloat(a.Threshold(s.Window))
		cond := func(w time.Duration) string {
			return RecordPrefix + promDuration(w) + selector(s.Name) + " >= " + th + " * " + budget
		}
		parts = append(parts, "(\n  "+cond(a.Long)+"\n  and\n  "+cond(a.Short)+"\n)")
		desc = append(desc, fmt.Sprintf("%s and %s at %s×", promDuration(a.Long), promDuration(a.Short), strconv.FormatFloat(a.Threshold(s.Window), 'g', 4, 64)))
	}
	l := map[string]string{"severity": sev}
	for k, v := range labels {
		l[k] = v
	}
	hint := "flowtrace triage --prometheus {{ $externalURL }}"
	if svc := s.OwnerService(); svc != "" {
		hint += " --from " + shellQuote(svc)
	}
	if opt.OwnersFile != "" {
		hint += " --owners " + shellQuote(opt.OwnersFile)
	}
	team := "no owning team known"
	if t := labels["team"]; t != "" {
		team = "team " + t
		if c := labels["channel"]; c != "" {
			team += ", " + c
		}
	}
	return Rule{
		Alert:  AlertName(sev),
		Expr:   strings.Join(parts, "\nor\n") + "\n",
		Labels: l,
		Annotations: map[string]string{
			"summary": fmt.Sprintf("SLO %s (%s of events good over %s) is burning its error budget too fast (%s)",
				s.Name, formatFloat(100*s.Target)+"%", promDuration(s.Window), team),
			"description": fmt.Sprintf("The bad-event ratio of SLO %s is at least the burn-rate threshold times the error budget over both windows of a pair: %s. "+
				"Burn rate 1 spends the budget exactly over %s.", s.Name, strings.Join(desc, "; "), promDuration(s.Window)),
			"triage": triageHint(s, hint),
		},
	}
}

// triageHint is the triage annotation. The Prometheus source follows
// failed requests only: for an SLO with a latency objective it says that
// slow events need the traces.
func triageHint(s slo.SLO, cmd string) string {
	h := "Find the service and team nearest the cause: " + cmd
	if s.Latency > 0 {
		h += " (failures only; for slow requests run flowtrace triage --slos <slos.yaml> --name " + shellQuote(s.Name) + " over the window's traces)"
	}
	return h
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// formatFloat writes f to 12 significant digits: 13.44 rather than
// 13.440000000000001, still within the 1e-9 tolerance `flowtrace slo`
// compares burn rates with.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', 12, 64) }

// promDuration writes d in Prometheus's duration syntax (whole days, hours,
// minutes, seconds, milliseconds: 3d, 1h30m, 500ms).
func promDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}} {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.s)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "1ms" // below Prometheus's resolution
	}
	return b.String()
}

// WriteYAML writes the rule file, with a header saying where it came from.
func (f *File) WriteYAML(w io.Writer, source string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Prometheus rules written by `flowtrace slo rules` from %s; regenerate rather than edit.\n", source)
	fmt.Fprintf(&b, "# Inputs: %s and %s, label %s, from the flowtrace connector or `flowtrace serve`.\n", MetricEvents, MetricGoodEvents, LabelSLO)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
