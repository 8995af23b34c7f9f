// Package promtest starts a real Prometheus (the Debian package
// prometheus: prometheus and promtool) for tests, over series backfilled
// from OpenMetrics text, so tests query a real server without waiting for
// scrapes.
package promtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/live/livetest"
)

// LookTool returns the path of a Prometheus binary (Debian package
// prometheus). Under CI=true a missing one fails the test; elsewhere the
// test is skipped with how to install it.
func LookTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: CI must install it (apt-get install -y prometheus)", name)
		}
		t.Skipf("%s not found; apt-get install -y prometheus to run the tests against a real Prometheus", name)
	}
	return p
}

// Start backfills om (OpenMetrics text) into a new TSDB with
// promtool, starts a real Prometheus on 127.0.0.1 over it, and returns its
// URL once ready. The server is stopped when the test ends.
func Start(t testing.TB, om string) string {
	t.Helper()
	return start(t, om, nil)
}

// StartWithRules is Start with a rule file loaded (rule_files), evaluated
// every second.
func StartWithRules(t testing.TB, om string, rules []byte) string {
	t.Helper()
	return start(t, om, rules)
}

func start(t testing.TB, om string, rules []byte) string {
	t.Helper()
	promtool, prom := LookTool(t, "promtool"), LookTool(t, "prometheus")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "series.om")
	require.NoError(t, os.WriteFile(in, []byte(om), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", in, data).CombinedOutput()
	require.NoError(t, err, "promtool tsdb create-blocks-from openmetrics:\n%s", out)
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := "global:\n  scrape_interval: 1m\n"
	if rules != nil {
		rf := filepath.Join(dir, "rules.yaml")
		require.NoError(t, os.WriteFile(rf, rules, 0o644))
		conf = "global:\n  scrape_interval: 1m\n  evaluation_interval: 1s\nrule_files:\n  - " + rf + "\n"
	}
	require.NoError(t, os.WriteFile(cfg, []byte(conf), 0o644))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	var logs bytes.Buffer
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+data, "--web.listen-address="+addr,
		"--storage.tsdb.retention.time=30d", "--web.console.templates="+dir, "--web.console.libraries="+dir)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case <-done:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// OpenMetrics writes the families of samples as OpenMetrics text for
// [Start]: each series rising linearly from 0 at start to its value at end,
// one point a minute.
func OpenMetrics(samples livetest.Samples, families []string, start, end time.Time) string {
	var b strings.Builder
	for _, fam := range families {
		ss := samples.Family(fam)
		sort.Slice(ss, func(i, j int) bool { return labelString(ss[i].Labels) < labelString(ss[j].Labels) })
		steps := int(end.Sub(start) / time.Minute)
		for _, s := range ss {
			for i := 0; i <= steps; i++ {
				ts := start.Add(time.Duration(i) * time.Minute)
				fmt.Fprintf(&b, "%s%s %g %d\n", fam, labelString(s.Labels), s.Value*float64(i)/float64(steps), ts.Unix())
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
