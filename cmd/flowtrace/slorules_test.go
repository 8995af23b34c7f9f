package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/internal/promtest"
)

// `flowtrace slo rules` writes a rule file promtool accepts, with the team
// and channel of each SLO's owner, and warns about an SLO without one.
func TestSLORules(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rules.yaml")
	code, stdout, stderr := runCLI(t, "slo", "rules", "--slos", sloFile, "--owners", ownersFile, "--out", out)
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "SLO add-to-cart: no team label") {
		t.Errorf("no warning for the SLO without an owner: %q", stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alert: FlowtraceSLOBurnPage", "team: edge-team", "channel: '#edge-oncall'",
		"flowtrace_slo:error_ratio:rate1h{slo=\"checkout-availability\"} >= 13.44 * (1 - 0.999)",
		"--prometheus {{ $externalURL }} --from edge --owners " + ownersFile} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rules lack %q", want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if res, err := exec.CommandContext(ctx, promtest.LookTool(t, "promtool"), "check", "rules", out).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, res)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"slo", "rules"}, exitUsage, "--slos FILE is required"},
		{[]string{"slo", "rules", "--slos", sloFile, shopFile}, exitUsage, "reads no trace files"},
		{[]string{"slo", "rules", "--slos", sloFile, "--owners", testdata}, exitError, "not a regular file"},
		{[]string{"slo", "rules", "--slos", "missing.yaml"}, exitError, "missing.yaml"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	code, stdout, _ = runCLI(t, "slo", "rules", "--slos", sloFile)
	if code != exitOK || !strings.Contains(stdout, "groups:") || strings.Contains(stdout, "team:") {
		t.Errorf("without owners: exit %d\n%s", code, stdout)
	}
}
