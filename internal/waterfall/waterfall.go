// Package waterfall draws traces in a terminal: one line per span, indented
// under its parent, with a bar showing when it ran within the trace.
package waterfall

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// Options tune the drawing.
type Options struct {
	// Width is the bar width in columns (default 30).
	Width int
	// Tags names the attributes shown after each span (default: a few
	// well-known ones).
	Tags []string
}

var defaultTags = []string{"http.method", "http.status_code", "rpc.grpc.status_code", "messaging.destination.name", "flow_id"}

// Write draws every trace in spans, oldest first.
func Write(w io.Writer, spans []tracetest.Span, opts Options) error {
	if opts.Width <= 0 {
		opts.Width = 30
	}
	if opts.Tags == nil {
		opts.Tags = defaultTags
	}
	byTrace := map[string][]tracetest.Span{}
	var order []string
	for _, s := range spans {
		if _, ok := byTrace[s.TraceID]; !ok {
			order = append(order, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	sort.SliceStable(order, func(i, j int) bool {
		return earliest(byTrace[order[i]]).Before(earliest(byTrace[order[j]]))
	})
	for _, id := range order {
		if err := writeTrace(w, id, byTrace[id], opts); err != nil {
			return err
		}
	}
	return nil
}

func earliest(spans []tracetest.Span) time.Time {
	t := spans[0].Start
	for _, s := range spans[1:] {
		if s.Start.Before(t) {
			t = s.Start
		}
	}
	return t
}

func writeTrace(w io.Writer, traceID string, spans []tracetest.Span, opts Options) error {
	start := earliest(spans)
	end := start
	ids := map[string]bool{}
	for _, s := range spans {
		if s.End.After(end) {
			end = s.End
		}
		ids[s.SpanID] = true
	}
	total := end.Sub(start)
	if total <= 0 {
		total = time.Nanosecond
	}
	children := map[string][]tracetest.Span{}
	var roots []tracetest.Span
	for _, s := range spans {
		if s.ParentSpanID == "" || !ids[s.ParentSpanID] {
			roots = append(roots, s)
			continue
		}
		children[s.ParentSpanID] = append(children[s.ParentSpanID], s)
	}
	byStart := func(list []tracetest.Span) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
	}
	byStart(roots)
	if _, err := fmt.Fprintf(w, "trace %s  (%d spans, %s)\n", traceID, len(spans), round(total)); err != nil {
		return err
	}
	var walk func(s tracetest.Span, depth int) error
	walk = func(s tracetest.Span, depth int) error {
		if err := writeSpan(w, s, depth, start, total, opts); err != nil {
			return err
		}
		kids := children[s.SpanID]
		byStart(kids)
		for _, k := range kids {
			if err := walk(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := walk(r, 0); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

func writeSpan(w io.Writer, s tracetest.Span, depth int, start time.Time, total time.Duration, opts Options) error {
	from := int(float64(s.Start.Sub(start)) / float64(total) * float64(opts.Width))
	length := int(float64(s.End.Sub(s.Start)) / float64(total) * float64(opts.Width))
	from = clamp(from, 0, opts.Width-1)
	length = clamp(length, 1, opts.Width-from)
	bar := strings.Repeat(" ", from) + strings.Repeat("█", length) + strings.Repeat(" ", opts.Width-from-length)
	service, _ := s.Resource["service.name"].(string)
	mark := "  "
	if s.Status.Code == tracer.StatusError {
		mark = "✗ "
	}
	label := fmt.Sprintf("%s%s%s %s", strings.Repeat("  ", depth), mark, service, s.Name)
	var tags []string
	for _, k := range opts.Tags {
		if v, ok := s.Attributes[k]; ok {
			tags = append(tags, fmt.Sprintf("%s=%v", k, v))
		}
	}
	if s.Status.Code == tracer.StatusError && s.Status.Message != "" {
		tags = append(tags, fmt.Sprintf("error=%q", s.Status.Message))
	}
	_, err := fmt.Fprintf(w, "%-48s |%s| %8s  %s\n", truncate(label, 48), bar, round(s.End.Sub(s.Start)), strings.Join(tags, " "))
	return err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
