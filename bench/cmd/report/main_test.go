package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestLimitsNameTargets: every explanation belongs to a target the report
// evaluates, so renaming a goal cannot silently drop its explanation.
func TestLimitsNameTargets(t *testing.T) {
	goals := map[string]bool{}
	for _, tg := range targets(&results{vals: map[string]map[string][]float64{}}) {
		goals[tg.goal] = true
	}
	for goal := range limits {
		if !goals[goal] {
			t.Errorf("limits names %q, which is not a target", goal)
		}
	}
}

// TestWriteLimitsOnlyMissed: met and unmeasured targets get no entry; a
// missed one gets its explanation, or says that it has none.
func TestWriteLimitsOnlyMissed(t *testing.T) {
	var b bytes.Buffer
	writeLimits(&b, []target{
		{goal: "met goal", got: "1×", met: true, limit: "never printed"},
		{goal: "unknown goal", unknown: true, limit: "never printed either"},
		{goal: "missed goal", got: "3×", limit: "the profile says so"},
		{goal: "bare goal", got: "2×"},
	})
	out := b.String()
	for _, want := range []string{"**missed goal** (measured: 3×). the profile says so", "**bare goal** (measured: 2×). No profile"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "never printed") {
		t.Errorf("met or unmeasured target explained:\n%s", out)
	}
	b.Reset()
	writeLimits(&b, []target{{goal: "g", met: true}})
	if !strings.Contains(b.String(), "Every measured target is met") {
		t.Errorf("all met: %s", b.String())
	}
}
