package live

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
)

// ContentType is the media type of [Snapshot.WriteText]'s output: the
// Prometheus text exposition format 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes the snapshot in the Prometheus text exposition format.
func (s *Snapshot) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bounds := make([]string, len(s.Bounds))
	for i, b := range s.Bounds {
		bounds[i] = fmtFloat(b)
	}
	for _, f := range s.Families {
		bw.WriteString("# HELP " + f.Name + " " + escapeHelp(f.Help) + "\n")
		bw.WriteString("# TYPE " + f.Name + " " + string(f.Type) + "\n")
		for _, x := range f.Series {
			labels := labelText(f.Labels, x)
			switch f.Type {
			case Histogram:
				for i, c := range x.Buckets {
					le := "+Inf"
					if i < len(bounds) {
						le = bounds[i]
					}
					bw.WriteString(f.Name + "_bucket" + withLabel(labels, "le", le) + " " + fmtFloat(c) + "\n")
				}
				bw.WriteString(f.Name + "_sum" + braces(labels) + " " + fmtFloat(x.Sum) + "\n")
				bw.WriteString(f.Name + "_count" + braces(labels) + " " + fmtFloat(x.Count) + "\n")
			default:
				bw.WriteString(f.Name + braces(labels) + " " + fmtFloat(x.Value) + "\n")
			}
		}
	}
	return bw.Flush()
}

func labelText(names []string, x Series) string {
	var b strings.Builder
	for i, n := range names {
		if x.Overflow {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + `="` + escapeValue(x.Values[i]) + `"`)
	}
	if x.Overflow {
		b.WriteString(OverflowLabel + `="true"`)
	}
	return b.String()
}

func braces(labels string) string {
	if labels == "" {
		return ""
	}
	return "{" + labels + "}"
}

func withLabel(labels, name, value string) string {
	l := name + `="` + value + `"`
	if labels != "" {
		l = labels + "," + l
	}
	return "{" + l + "}"
}

var valueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeValue(s string) string { return valueEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func fmtFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
