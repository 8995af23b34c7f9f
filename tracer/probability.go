package tracer

import (
	"math"
	"strconv"
	"strings"

	"github.com/flowtrace/flowtrace/propagation"
)

// The sampling probability of a trace travels to other services in the
// W3C tracestate as OpenTelemetry's "th" sub-key of the "ot" entry: the
// rejection threshold T over 56 bits (p = 1 - T/2^56), as hex without
// trailing zeros. A service that continues the trace records the same
// probability, so tools weight all of its spans alike, and OpenTelemetry
// SDKs read the same value.
const (
	otKey     = "ot"
	thSubKey  = "th:"
	thDigits  = 14
	thMaxPlus = 1 << 56
)

// encodeThreshold returns the "th" value for probability p in (0, 1].
func encodeThreshold(p float64) string {
	t := uint64(math.Round((1 - p) * thMaxPlus))
	if t >= thMaxPlus {
		t = thMaxPlus - 1
	}
	s := strconv.FormatUint(t, 16)
	s = strings.Repeat("0", thDigits-len(s)) + s
	s = strings.TrimRight(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

// decodeThreshold parses a "th" value.
func decodeThreshold(th string) (float64, bool) {
	if th == "" || len(th) > thDigits {
		return 0, false
	}
	t, err := strconv.ParseUint(th+strings.Repeat("0", thDigits-len(th)), 16, 64)
	if err != nil || strings.ToLower(th) != th {
		return 0, false
	}
	return 1 - float64(t)/thMaxPlus, true
}

// probabilityFromTraceState reads the probability a caller's tracestate
// carries.
func probabilityFromTraceState(ts string) (float64, bool) {
	if !strings.Contains(ts, otKey+"=") {
		return 0, false
	}
	ot, ok := propagation.TraceStateGet(ts, otKey)
	if !ok {
		return 0, false
	}
	for _, sub := range strings.Split(ot, ";") {
		if th, ok := strings.CutPrefix(sub, thSubKey); ok {
			return decodeThreshold(th)
		}
	}
	return 0, false
}

// withProbability returns ts with the ot entry's th set for p (other ot
// sub-keys kept); ts is returned unchanged when it cannot take the entry.
func withProbability(ts string, p float64) string {
	th := thSubKey + encodeThreshold(p)
	ot, _ := propagation.TraceStateGet(ts, otKey)
	subs := []string{th}
	if ot != "" {
		for _, sub := range strings.Split(ot, ";") {
			if sub != "" && !strings.HasPrefix(sub, thSubKey) {
				subs = append(subs, sub)
			}
		}
	}
	out, err := propagation.TraceStateWith(ts, otKey, strings.Join(subs, ";"))
	if err != nil {
		return ts
	}
	return out
}
