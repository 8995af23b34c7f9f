package tracer

import (
	"math"
	"strconv"
	"strings"

	"github.com/flowtrace/flowtrace/propagation"
)

// Consistent probability sampling, as OpenTelemetry specifies it (OTEP 235,
// the "ot" entry of the W3C tracestate):
//
//   - every trace has a randomness R of 56 bits: the "rv" sub-key of the
//     "ot" entry when the trace carries one, else the low 56 bits of the
//     trace id (random by W3C Trace Context Level 2);
//   - a sampler with probability p has the rejection threshold
//     T = 2^56 - round(p·2^56) and keeps the trace iff T <= R;
//   - a sampled span says which T kept it in the "th" sub-key (T in hex,
//     14 digits with trailing zeros removed; "0" is probability 1).
//
// Any service, flowtrace or OpenTelemetry, SDK or collector, that samples
// at a lower probability (a higher T) then keeps a subset of what flowtrace
// kept, and every span records the same probability, so tools weight all
// spans of a trace alike. A decision that is not the outcome of comparing R
// with a threshold (a rate limit, a forced trace, a parent whose sampled
// flag contradicts its th) erases th rather than publish a false one; rv
// is never changed.
const (
	otKey        = "ot"
	thSubKey     = "th"
	rvSubKey     = "rv"
	thDigits     = 14
	randomBits   = 56
	maxThreshold = uint64(1) << randomBits // T = 2^56: nothing is sampled
	randomMask   = maxThreshold - 1
)

// Threshold is a consistent-probability rejection threshold T over the 56
// bits of a trace's randomness: a trace is sampled iff T <= R. The zero
// Threshold is "none": the decision was not made by a threshold, and the
// tracer erases any th sub-key instead of publishing one.
type Threshold struct {
	t   uint64 // in [0, 2^56]
	set bool
}

// ProbabilityThreshold returns the threshold that samples with probability
// p: T = 2^56 - round(p·2^56). p >= 1 gives T = 0 (everything), p <= 0 or
// NaN a threshold that samples nothing.
func ProbabilityThreshold(p float64) Threshold {
	switch {
	case math.IsNaN(p) || p <= 0:
		return Threshold{t: maxThreshold, set: true}
	case p >= 1:
		return Threshold{set: true}
	}
	// p·2^56 only shifts the exponent, so the rounding is the one step
	// where precision can go, and it goes the same way as in other
	// implementations of the rule.
	return Threshold{t: maxThreshold - uint64(math.Round(p*float64(maxThreshold))), set: true}
}

// ParseThreshold reads a th value: 1 to 14 lower-case hex digits, padded
// with trailing zeros to 14.
func ParseThreshold(tvalue string) (Threshold, bool) {
	if tvalue == "" || len(tvalue) > thDigits || !lowerHex(tvalue) {
		return Threshold{}, false
	}
	t, err := strconv.ParseUint(tvalue, 16, 64)
	if err != nil {
		return Threshold{}, false
	}
	return Threshold{t: t << (4 * (thDigits - len(tvalue))), set: true}, true
}

// IsSet reports whether th is a threshold rather than the zero "none".
func (th Threshold) IsSet() bool { return th.set }

// ShouldSample reports whether a trace of randomness r (56 bits) is
// sampled: T <= r. The zero Threshold samples nothing.
func (th Threshold) ShouldSample(r uint64) bool { return th.set && th.t <= r&randomMask }

// Probability returns 1 - T/2^56, the chance that a trace is sampled; 0
// for the zero Threshold.
func (th Threshold) Probability() float64 {
	if !th.set {
		return 0
	}
	return float64(maxThreshold-th.t) / float64(maxThreshold)
}

// TValue returns th's encoding in the tracestate ("c" for p = 0.25, "0" for
// p = 1); "" when there is nothing to publish (the zero Threshold, or one
// that samples nothing).
func (th Threshold) TValue() string {
	if !th.set || th.t >= maxThreshold {
		return ""
	}
	if th.t == 0 {
		return "0"
	}
	// Adding 2^56 gives a fixed width of 15 digits with a leading "1".
	return strings.TrimRight(strconv.FormatUint(maxThreshold+th.t, 16)[1:], "0")
}

// Randomness returns the trace's 56 random bits: the rv sub-key of the
// parent's "ot" tracestate entry when it has a valid one, else the low 56
// bits of the trace id.
func (p SamplingParameters) Randomness() uint64 {
	if p.Parent.TraceState != "" {
		if ot, ok := otEntry(p.Parent.TraceState); ok {
			if rv, ok := parseRandomness(subKey(ot, rvSubKey)); ok {
				return rv
			}
		}
	}
	return getUint64(p.TraceID[8:]) & randomMask
}

func parseRandomness(rv string) (uint64, bool) {
	if len(rv) != thDigits || !lowerHex(rv) {
		return 0, false
	}
	r, err := strconv.ParseUint(rv, 16, 64)
	return r, err == nil
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// otEntry returns the value of the tracestate's ot member.
func otEntry(ts string) (string, bool) {
	if !strings.Contains(ts, otKey+"=") {
		return "", false
	}
	return propagation.TraceStateGet(ts, otKey)
}

// subKey returns the value of key in an ot value ("th:c;rv:..."), "" when
// absent.
func subKey(ot, key string) string {
	for rest := ot; rest != ""; {
		var sub string
		sub, rest, _ = strings.Cut(rest, ";")
		if k, v, ok := strings.Cut(sub, ":"); ok && k == key {
			return v
		}
	}
	return ""
}

// inheritedThreshold returns the threshold a parent's tracestate publishes,
// if it is valid and consistent with the parent's decision: a sampled
// parent whose randomness r passes it. Anything else is not a probability
// the span can record.
func inheritedThreshold(ts string, sampled bool, r uint64) (Threshold, bool) {
	if !sampled {
		return Threshold{}, false
	}
	ot, ok := otEntry(ts)
	if !ok {
		return Threshold{}, false
	}
	th, ok := ParseThreshold(subKey(ot, thSubKey))
	if !ok || !th.ShouldSample(r) {
		return Threshold{}, false
	}
	return th, true
}

// withThreshold returns ts with the ot entry's th set to th's TValue, or
// th removed when th has nothing to publish; other ot sub-keys (rv among
// them) and other members are kept. When ts cannot take the entry, the ot
// entry is dropped: a stale th never stays.
func withThreshold(ts string, th Threshold) string {
	if ts == "" && (!th.set || th.t >= maxThreshold) {
		return "" // nothing to write or erase, checked without a call
	}
	tv := th.TValue()
	ot, hasOT := otEntry(ts)
	if tv == "" && (!hasOT || !strings.Contains(ot, thSubKey+":")) {
		return ts // nothing to erase: the common case costs no allocation
	}
	var b strings.Builder
	if tv != "" {
		b.WriteString(thSubKey + ":")
		b.WriteString(tv)
	}
	for rest := ot; rest != ""; {
		var sub string
		sub, rest, _ = strings.Cut(rest, ";")
		if sub == "" || strings.HasPrefix(sub, thSubKey+":") {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(sub)
	}
	var (
		out string
		err error
	)
	if b.Len() == 0 {
		out, err = propagation.TraceStateWithout(ts, otKey)
	} else {
		out, err = propagation.TraceStateWith(ts, otKey, b.String())
	}
	if err != nil {
		// A th that cannot be set or erased must not travel on: drop the
		// whole ot entry rather than keep a stale one, and the whole
		// tracestate if even that fails.
		if out, err = propagation.TraceStateWithout(ts, otKey); err == nil {
			return out
		}
		return ""
	}
	return out
}
