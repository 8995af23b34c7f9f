package estimate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Demand is the forecast rate of one critical operation.
type Demand struct {
	Key       string  // critical_operation, or root span name
	PerSecond float64 // forecast rate
}

// ParseForecast parses "key=rate[/unit],..." with units /s (default), /m
// (or /min) and /h. Keys must be unique; rates non-negative and finite.
func ParseForecast(s string) ([]Demand, error) {
	var out []Demand
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("forecast item %d %q: want key=rate/s", i+1, part)
		}
		if seen[k] {
			return nil, fmt.Errorf("forecast item %d: key %q given twice", i+1, k)
		}
		seen[k] = true
		num, unit, _ := strings.Cut(v, "/")
		per := 1.0
		switch strings.TrimSpace(unit) {
		case "", "s":
		case "m", "min":
			per = 60
		case "h":
			per = 3600
		default:
			return nil, fmt.Errorf("forecast item %d %q: unknown unit %q (want /s, /m or /h)", i+1, part, unit)
		}
		r, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return nil, fmt.Errorf("forecast item %d %q: rate %q is not a non-negative number", i+1, part, num)
		}
		out = append(out, Demand{Key: k, PerSecond: r / per})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty forecast: want e.g. checkout=1200/s,browse=30000/s")
	}
	return out, nil
}
