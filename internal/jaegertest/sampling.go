package jaegertest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Sampling is a running Jaeger's remote_sampling extension: its gRPC
// SamplingManager and its HTTP endpoint (legacy JSON at any path).
type Sampling struct {
	GRPC, HTTP  string
	bin, config string
	logs        bytes.Buffer
	cmd         *exec.Cmd
	cancel      context.CancelFunc
}

// StartSampling runs Jaeger with only the remote_sampling extension, serving
// the file strategy at strategies and re-reading it every reload (Jaeger
// never reloads without an explicit reload_interval). The pipeline is a
// nop receiver and exporter: the tests measure spans with their own
// receiver.
func StartSampling(t testing.TB, strategies string, reload time.Duration) *Sampling {
	t.Helper()
	bin := Binary(t)
	s := &Sampling{GRPC: freePort(t), HTTP: freePort(t)}
	health := freePort(t)
	cfg := fmt.Sprintf(`service:
  extensions: [jaeger_storage, remote_sampling, healthcheckv2]
  pipelines:
    traces:
      receivers: [nop]
      exporters: [nop]
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
          max_traces: 10
  remote_sampling:
    file:
      path: %q
      reload_interval: %s
    http:
      endpoint: %q
    grpc:
      endpoint: %q
receivers:
  nop:
exporters:
  nop:
`, health, strategies, reload, s.HTTP, s.GRPC)
	s.bin, s.config = bin, filepath.Join(t.TempDir(), "jaeger-sampling.yaml")
	require.NoError(t, os.WriteFile(s.config, []byte(cfg), 0o600))
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("jaeger output:\n%s", s.logs.String())
		}
	})
	s.Restart(t)
	return s
}

// Restart starts Jaeger again on the same addresses after Stop (the
// endpoint comes back), and waits until both listeners accept.
func (s *Sampling) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, s.bin, "--config", "file:"+s.config)
	cmd.Stdout, cmd.Stderr = &s.logs, &s.logs
	require.NoError(t, cmd.Start())
	s.cmd, s.cancel = cmd, cancel
	require.Eventually(t, func() bool {
		for _, addr := range []string{s.HTTP, s.GRPC} {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return false
			}
			c.Close()
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "jaeger remote_sampling never came up")
}

// Stop ends Jaeger (the endpoint goes down); calling it again does nothing.
func (s *Sampling) Stop() {
	if s.cancel != nil {
		s.cancel()
		_ = s.cmd.Wait()
		s.cancel = nil
	}
}
