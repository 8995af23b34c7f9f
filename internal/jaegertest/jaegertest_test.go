package jaegertest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStartRetriesATakenPort: the first configuration names a port another
// listener holds, as when a parallel test takes a port between freePort
// and Jaeger's bind; Jaeger exits, and the second attempt, on fresh ports,
// comes up.
func TestStartRetriesATakenPort(t *testing.T) {
	Binary(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	strategies := filepath.Join(t.TempDir(), "strategies.json")
	require.NoError(t, os.WriteFile(strategies, []byte(`{"default_strategy":{"type":"probabilistic","param":0.5}}`), 0o600))
	attempts := 0
	var httpAddr string
	startOnFreePorts(t, "jaeger-sampling.yaml", "jaeger remote_sampling", func() (string, func() bool) {
		attempts++
		grpcAddr := freePort(t)
		httpAddr = freePort(t)
		if attempts == 1 {
			grpcAddr = taken.Addr().String()
		}
		cfg := config(freePort(t), 10, "remote_sampling", "      receivers: [nop]\n      exporters: [nop]",
			"  remote_sampling:\n    file:\n      path: \""+strategies+"\"\n      reload_interval: 1h\n"+
				"    http:\n      endpoint: \""+httpAddr+"\"\n    grpc:\n      endpoint: \""+grpcAddr+"\"\n"+
				"receivers:\n  nop:\nexporters:\n  nop:\n")
		return cfg, func() bool { return listening(httpAddr, grpcAddr) }
	})
	require.Equal(t, 2, attempts, "a taken port is retried once on new ports")
	require.True(t, listening(httpAddr))
}
