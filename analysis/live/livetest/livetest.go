// Package livetest reads Prometheus text exposition back into samples, so
// tests of `flowtrace serve`, of the collector connector and of package
// live can assert series and compare two endpoints. It is a test helper:
// it parses what flowtrace and the collector's Prometheus exporter write
// (one sample per line, no timestamps needed), not every corner of the
// format.
package livetest

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Sample is one line of exposition: a series and its value.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Samples are the samples of one scrape, in input order.
type Samples []Sample

// Parse reads exposition text.
func Parse(r io.Reader) (Samples, error) {
	var out Samples
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w: %q", n, err, line)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func parseLine(line string) (Sample, error) {
	s := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, fmt.Errorf("no value")
	}
	s.Name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, ", ")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq <= 0 {
				return s, fmt.Errorf("bad label")
			}
			name := rest[:eq]
			rest = rest[eq+2:]
			var v strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '\\' && j+1 < len(rest) {
					j++
					switch rest[j] {
					case 'n':
						v.WriteByte('\n')
					default:
						v.WriteByte(rest[j])
					}
					continue
				}
				if c == '"' {
					rest = rest[j+1:]
					closed = true
					break
				}
				v.WriteByte(c)
			}
			if !closed {
				return s, fmt.Errorf("unterminated label value")
			}
			s.Labels[name] = v.String()
		}
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, err
	}
	s.Value = v
	return s, nil
}

// Family returns the samples named name.
func (ss Samples) Family(name string) Samples {
	var out Samples
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Sum adds the values of the samples named name whose labels include the
// pairs kv (name, value, name, value...).
func (ss Samples) Sum(name string, kv ...string) float64 {
	var t float64
	for _, s := range ss {
		if s.Name == name && has(s, kv) {
			t += s.Value
		}
	}
	return t
}

// Value is Sum: the value of the one series the pairs select.
func (ss Samples) Value(name string, kv ...string) float64 { return ss.Sum(name, kv...) }

func has(s Sample, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if v, ok := s.Labels[kv[i]]; !ok || v != kv[i+1] {
			return false
		}
	}
	return true
}

// Keys returns each sample whose name starts with one of prefixes (all
// when none) as "name{k=v,...}" with its labels sorted, leaving out empty
// labels (no label, to Prometheus) and the labels drop names (a scrape
// target's job, instance), mapped to its value: two endpoints give the
// same series when their Keys are equal.
func (ss Samples) Keys(prefixes []string, drop ...string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range ss {
		if len(prefixes) > 0 && !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s.Name, p) }) {
			continue
		}
		l := maps.Clone(s.Labels)
		for _, d := range drop {
			delete(l, d)
		}
		for k, v := range l {
			if v == "" { // Prometheus: an empty label is no label
				delete(l, k)
			}
		}
		names := slices.Collect(maps.Keys(l))
		sort.Strings(names)
		var b strings.Builder
		b.WriteString(s.Name + "{")
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n + "=" + strconv.Quote(l[n]))
		}
		b.WriteString("}")
		out[b.String()] += s.Value
	}
	return out
}
