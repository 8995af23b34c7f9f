package tracer

import (
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/propagation"
)

// FuzzOTEntry feeds callers' tracestates to the ot entry's readers and
// writer: nothing panics, an erased th is gone, a published th is the one
// asked for, and rv and the other members are kept.
func FuzzOTEntry(f *testing.F) {
	for _, seed := range []string{
		"ot=th:c", "ot=th:c;rv:0123456789abcd,vendor=x", "ot=rv:0123456789ABCD", "ot=th:;rv:",
		"ot=th:123456789abcdef", "ot=th:0;th:8", "vendor=x,ot=foo:bar;th:8", "ot=;;;", "ot=th:g",
	} {
		f.Add(seed, uint8(1))
	}
	f.Fuzz(func(t *testing.T, in string, flags uint8) {
		ts, err := propagation.ParseTraceState(in)
		if err != nil {
			return
		}
		parent := propagation.SpanContext{TraceID: newTraceID(), SpanID: newSpanID(), Flags: flags, TraceState: ts}
		p := SamplingParameters{TraceID: parent.TraceID, Parent: parent}
		r := p.Randomness()
		if r > randomMask {
			t.Fatalf("randomness %x has more than 56 bits", r)
		}
		if th, ok := inheritedThreshold(ts, parent.IsSampled(), r); ok && !th.ShouldSample(r) {
			t.Fatalf("inherited %v does not pass %x", th, r)
		}
		ot, _ := otEntry(ts)
		rv := subKey(ot, rvSubKey)
		erased := withThreshold(ts, Threshold{})
		if got, _ := otEntry(erased); strings.Contains(";"+got, ";"+thSubKey+":") {
			t.Fatalf("th left in %q (from %q)", erased, ts)
		}
		set := withThreshold(ts, ProbabilityThreshold(0.25))
		if got, ok := otEntry(set); ok && subKey(got, thSubKey) != "c" {
			t.Fatalf("th not published in %q (from %q)", set, ts)
		}
		for _, out := range []string{erased, set} {
			got, _ := otEntry(out)
			if subKey(got, rvSubKey) != rv && out != "" && len(out) < 512 {
				t.Fatalf("rv changed: %q -> %q", ts, out)
			}
			if _, err := propagation.ParseTraceState(out); err != nil {
				t.Fatalf("invalid tracestate %q from %q: %v", out, ts, err)
			}
		}
	})
}
