package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/live/livetest"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/internal/promtest"
)

// `flowtrace triage --prometheus` against a real Prometheus holding the
// shop's service graph (the live core's series over the recorded traces):
// it names catalog and the ownership file's team, as file triage does for
// the failed checkouts; and the page alert's triage hint (--from edge)
// runs as written.
func TestTriagePrometheus(t *testing.T) {
	spans, err := source.ReadFile(shopFile)
	if err != nil {
		t.Fatal(err)
	}
	core := live.New(live.Config{})
	core.Add(spans)
	core.Flush()
	var expo bytes.Buffer
	if err := core.Snapshot().WriteText(&expo); err != nil {
		t.Fatal(err)
	}
	samples, err := livetest.Parse(&expo)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(-time.Hour).Truncate(time.Minute)
	url := promtest.Start(t, promtest.OpenMetrics(samples, []string{live.MetricRequests, live.MetricRequestsFailed}, end.Add(-10*time.Minute), end))
	at := end.Format(time.RFC3339)

	code, stdout, stderr := runCLI(t, "triage", "--prometheus", url, "--end", at, "--lookback", "10m", "--owners", ownersFile)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr %s", code, stderr)
	}
	want, err := os.ReadFile(filepath.Join(testdata, "golden", "triage-prometheus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Replace(stdout, url, "PROMETHEUS", 1)
	got = strings.Replace(got, at, "END", 1)
	if got != string(want) {
		t.Errorf("stdout differs from triage-prometheus.txt:\n%s", got)
	}

	code, stdout, stderr = runCLI(t, "triage", "--prometheus", url, "--end", at, "--lookback", "10m", "--slos", sloFile, "--name", "checkout-availability", "--format", "json")
	if code != exitOK || !strings.Contains(stdout, `"start": "edge"`) || !strings.Contains(stdout, `"cause": "catalog"`) {
		t.Errorf("--name's owner as start: exit %d\n%s\n%s", code, stdout, stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--prometheus", url, shopFile}, exitUsage, "reads no traces"},
		{[]string{"--prometheus", "127.0.0.1:9090"}, exitUsage, "want http://host:port"},
		{[]string{"--prometheus", url, "--end", at, "--lookback", "10m", "--from", "nosuch"}, exitError, `service "nosuch" has no service-graph series`},
		{[]string{"--prometheus", url, "--end", end.Add(-24 * time.Hour).Format(time.RFC3339), "--lookback", "10m"}, exitError, "no traces_service_graph_request_total series"},
		{[]string{"--prometheus", url, "--name", "x"}, exitUsage, "--name needs --slos"},
		{[]string{"--prometheus", url, "--end", at, "--max-bytes", "100"}, exitError, "response larger than 100 bytes"},
	} {
		code, _, stderr := runCLI(t, append([]string{"triage"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
