//go:build unix

package export

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/safefile"
)

// TestOTLPCertificateSpecialFile: a FIFO as certificate blocked
// NewOTLPClient forever and /dev/zero exhausted memory (os.ReadFile reads
// until EOF). Now each is one error naming the reason.
func TestOTLPCertificateSpecialFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ca.pem")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	link := filepath.Join(dir, "ca-link.pem")
	require.NoError(t, os.Symlink(fifo, link))
	huge := filepath.Join(dir, "huge.pem")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(8<<30)) // sparse
	require.NoError(t, f.Close())

	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"fifo", fifo, safefile.ErrNotRegular},
		{"symlink to fifo", link, safefile.ErrNotRegular},
		{"dev zero", "/dev/zero", safefile.ErrNotRegular},
		{"directory", dir, safefile.ErrNotRegular},
		{"huge file", huge, safefile.ErrTooLarge},
	} {
		for _, protocol := range []string{ProtocolGRPC, ProtocolHTTPProtobuf} {
			t.Run(tc.name+"/"+protocol, func(t *testing.T) {
				done := make(chan error, 1)
				go func() {
					_, err := NewOTLPClient(OTLPSettings{Protocol: protocol, Endpoint: "https://127.0.0.1:4317", Certificate: tc.path})
					done <- err
				}()
				select {
				case err := <-done:
					require.ErrorIs(t, err, tc.want)
					require.ErrorContains(t, err, "OTLP certificate")
				case <-time.After(20 * time.Second):
					t.Fatal("NewOTLPClient blocked on the certificate file")
				}
			})
		}
	}
}
