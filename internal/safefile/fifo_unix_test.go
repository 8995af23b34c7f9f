//go:build unix

package safefile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// specialCases adds the FIFO cases: a plain os.Open of either blocks until
// a writer appears, forever in a test.
func specialCases(t *testing.T, dir string) []struct {
	name string
	path string
	want error
} {
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	link := filepath.Join(dir, "fifo-link")
	require.NoError(t, os.Symlink(fifo, link))
	return []struct {
		name string
		path string
		want error
	}{
		{"fifo", fifo, ErrNotRegular},
		{"symlink to fifo", link, ErrNotRegular},
	}
}

// TestOpenAppendFIFOWithReader: with a reader on the other end the
// non-blocking open succeeds, and the fstat after it refuses the FIFO.
func TestOpenAppendFIFOWithReader(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	require.NoError(t, err)
	defer r.Close()
	_, err = OpenAppend(fifo)
	require.ErrorIs(t, err, ErrNotRegular)

	// The same for the fstat after the open when the first stat is skipped.
	f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	require.NoError(t, err)
	defer f.Close()
	_, _, err = readFile(fifo, f, 64)
	require.ErrorIs(t, err, ErrNotRegular)
}
