package jaegertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Sampling is a running Jaeger's remote_sampling extension: its gRPC
// SamplingManager and its HTTP endpoint (legacy JSON at any path).
type Sampling struct {
	GRPC, HTTP string
	p          *process
}

// StartSampling runs Jaeger with only the remote_sampling extension, serving
// the file strategy at strategies and re-reading it every reload (Jaeger
// never reloads without an explicit reload_interval). The pipeline is a
// nop receiver and exporter: the tests measure spans with their own
// receiver.
func StartSampling(t testing.TB, strategies string, reload time.Duration) *Sampling {
	t.Helper()
	s := &Sampling{}
	s.p = startOnFreePorts(t, "jaeger-sampling.yaml", "jaeger remote_sampling", func() (string, func() bool) {
		s.GRPC, s.HTTP = freePort(t), freePort(t)
		health := freePort(t)
		cfg := config(health, 10, "remote_sampling", `      receivers: [nop]
      exporters: [nop]`, fmt.Sprintf(`  remote_sampling:
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
`, strategies, reload, s.HTTP, s.GRPC))
		httpAddr, grpcAddr := s.HTTP, s.GRPC
		return cfg, func() bool { return listening(httpAddr, grpcAddr) }
	})
	return s
}

// Restart starts Jaeger again on the same addresses after Stop (the
// endpoint comes back), and waits until both listeners accept.
func (s *Sampling) Restart(t testing.TB) {
	t.Helper()
	s.p.start(t)
	require.Eventually(t, func() bool { return listening(s.HTTP, s.GRPC) },
		30*time.Second, 50*time.Millisecond, "jaeger remote_sampling never came up")
}

// Stop ends Jaeger (the endpoint goes down); calling it again does nothing.
func (s *Sampling) Stop() { s.p.stop() }
