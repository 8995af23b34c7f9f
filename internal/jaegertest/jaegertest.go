// Package jaegertest runs a real Jaeger v2 all-in-one (built by
// scripts/jaeger.sh) for the tests of the Jaeger source and of the CLI:
// in-memory storage, every listener on 127.0.0.1.
package jaegertest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Binary finds the Jaeger binary: $FLOWTRACE_JAEGER_BIN, else the cache
// scripts/jaeger.sh writes. In CI (CI=true) a missing binary fails the
// test; elsewhere it skips it.
func Binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("FLOWTRACE_JAEGER_BIN")
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".cache", "flowtrace", "jaeger-v1.76.0", "jaeger")
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Jaeger binary at %s: .ci/run builds it with scripts/jaeger.sh", path)
		}
		t.Skipf("no Jaeger binary at %s (build one with scripts/jaeger.sh); the recorded-response tests still ran", path)
	}
	return path
}

func freePort(t testing.TB) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer lis.Close()
	return lis.Addr().String()
}

// Jaeger is a running Jaeger's addresses (host:port).
type Jaeger struct {
	OTLPGRPC, OTLPHTTP, Query string
}

// config is a Jaeger configuration with in-memory storage (at most
// maxTraces traces) and a health check on health; extensions come after
// jaeger_storage, extra holds their sections and the pipeline's
// components.
func config(health string, maxTraces int, extensions, pipeline, extra string) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, %s, healthcheckv2]
  pipelines:
    traces:
%s
  telemetry:
    metrics:
      level: none
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: %q
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: %d
%s`, extensions, pipeline, health, maxTraces, extra)
}

// process is one Jaeger run from a configuration file; its output is
// logged when the test fails.
type process struct {
	bin, config string
	logs        bytes.Buffer
	cmd         *exec.Cmd
	cancel      context.CancelFunc
}

func newProcess(t testing.TB, name, cfg string) *process {
	t.Helper()
	p := &process{bin: Binary(t), config: filepath.Join(t.TempDir(), name)}
	require.NoError(t, os.WriteFile(p.config, []byte(cfg), 0o600))
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("jaeger output:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *process) start(t testing.TB) {
	t.Helper()
	p.stop()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, p.bin, "--config", "file:"+p.config)
	cmd.Stdout, cmd.Stderr = &p.logs, &p.logs
	require.NoError(t, cmd.Start())
	p.cmd, p.cancel = cmd, cancel
}

// stop ends the process; calling it again does nothing.
func (p *process) stop() {
	if p.cancel != nil {
		p.cancel()
		_ = p.cmd.Wait()
		p.cancel = nil
	}
}

// listening reports whether every address accepts a connection.
func listening(addrs ...string) bool {
	for _, addr := range addrs {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// Start runs Jaeger until the test ends and waits for its query API.
func Start(t testing.TB) Jaeger {
	t.Helper()
	j := Jaeger{OTLPGRPC: freePort(t), OTLPHTTP: freePort(t), Query: freePort(t)}
	queryGRPC, health := freePort(t), freePort(t)
	p := newProcess(t, "jaeger.yaml", config(health, 100000, "jaeger_query", `      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]`, fmt.Sprintf(`  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: %q
    grpc:
      endpoint: %q
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
      http:
        endpoint: %q
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, j.Query, queryGRPC, j.OTLPGRPC, j.OTLPHTTP)))
	p.start(t)
	client := &http.Client{Timeout: time.Second}
	require.Eventually(t, func() bool {
		res, err := client.Get("http://" + j.Query + "/api/services")
		if err != nil {
			return false
		}
		res.Body.Close()
		// The receivers start after the query API.
		return res.StatusCode == http.StatusOK && listening(j.OTLPHTTP, j.OTLPGRPC)
	}, 30*time.Second, 100*time.Millisecond, "jaeger query API and OTLP receivers never came up")
	return j
}

// PostFile sends each line of an OTLP/JSON lines file to the OTLP/HTTP
// receiver (POST /v1/traces) and returns the number of requests sent.
func (j Jaeger) PostFile(t testing.TB, file string) int {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	client := &http.Client{Timeout: 5 * time.Second}
	n := 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		res, err := client.Post("http://"+j.OTLPHTTP+"/v1/traces", "application/json", bytes.NewReader(line))
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, "line %d of %s", n+1, file)
		n++
	}
	require.NoError(t, sc.Err())
	return n
}

// Wait polls until count reports want (traces visible in the query API).
func Wait(t testing.TB, what string, count func() (int, error), want int) {
	t.Helper()
	var got int
	var err error
	require.Eventually(t, func() bool {
		got, err = count()
		return err == nil && got == want
	}, 20*time.Second, 200*time.Millisecond, "%s: %d of %d visible (%v)", what, got, want, err)
}
