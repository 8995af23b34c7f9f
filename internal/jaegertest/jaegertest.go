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
	"strings"
	"sync"
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
	logs        syncBuffer
	cancel      context.CancelFunc
	exited      chan struct{} // closed when the running process has ended
}

// syncBuffer is the process's output: written by exec's copying
// goroutines, read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
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
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.cancel, p.exited = cancel, exited
}

// stop ends the process; calling it again does nothing.
func (p *process) stop() {
	if p.cancel != nil {
		p.cancel()
		<-p.exited
		p.cancel = nil
	}
}

// portTaken reports whether the process has ended because one of its
// listen addresses was taken: the ports are picked free, closed, then
// handed to Jaeger, and another test's listener can take one in between.
func (p *process) portTaken() bool {
	return p.hasExited() && strings.Contains(p.logs.String(), "address already in use")
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// startOnFreePorts starts a Jaeger whose configuration build makes with
// fresh free ports, and waits until ready reports true; a process that
// lost one of its ports to another listener is started again on new
// ones, at most three times.
func startOnFreePorts(t testing.TB, name, what string, build func() (cfg string, ready func() bool)) *process {
	t.Helper()
	for attempt := 1; ; attempt++ {
		cfg, ready := build()
		p := newProcess(t, name, cfg)
		p.start(t)
		deadline := time.Now().Add(30 * time.Second)
		for !ready() && !p.hasExited() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		switch {
		case p.portTaken() && attempt < 3:
			t.Logf("jaeger lost a port to another listener (attempt %d); starting it on new ports", attempt)
			continue
		case p.hasExited():
			t.Fatalf("%s: jaeger exited before it came up", what)
		case !ready():
			t.Fatalf("%s never came up", what)
		}
		return p
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
	var j Jaeger
	client := &http.Client{Timeout: time.Second}
	startOnFreePorts(t, "jaeger.yaml", "jaeger query API and OTLP receivers", func() (string, func() bool) {
		j = Jaeger{OTLPGRPC: freePort(t), OTLPHTTP: freePort(t), Query: freePort(t)}
		queryGRPC, health := freePort(t), freePort(t)
		cfg := config(health, 100000, "jaeger_query", `      receivers: [otlp]
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
`, j.Query, queryGRPC, j.OTLPGRPC, j.OTLPHTTP))
		query, otlpHTTP, otlpGRPC := j.Query, j.OTLPHTTP, j.OTLPGRPC
		return cfg, func() bool {
			res, err := client.Get("http://" + query + "/api/services")
			if err != nil {
				return false
			}
			res.Body.Close()
			// The receivers start after the query API.
			return res.StatusCode == http.StatusOK && listening(otlpHTTP, otlpGRPC)
		}
	})
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
