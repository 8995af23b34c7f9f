//go:build unix

package config

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// returnsPromptly runs fn and fails the test if it has not returned after
// a bound far above its normal cost: on 030e853 these cases never returned.
func returnsPromptly(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("did not return: blocked on a special file")
	}
}

// TestLabelsFileSpecial: FLOWTRACE_K8S_LABELS_FILE naming a FIFO (which
// blocked Load forever in open(2)), a symlink to one, a device, a directory
// or a huge file gives one warning and the rest of the service-name chain.
func TestLabelsFileSpecial(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "labels-fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	link := filepath.Join(dir, "labels-link")
	require.NoError(t, os.Symlink(fifo, link))
	huge := filepath.Join(dir, "labels-huge")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(4<<30)) // sparse
	require.NoError(t, f.Close())

	for _, tc := range []struct {
		name, path, warning string
	}{
		{"fifo", fifo, "not a regular file (named pipe)"},
		{"symlink to fifo", link, "not a regular file (named pipe)"},
		{"dev zero", "/dev/zero", "not a regular file (character device)"},
		{"directory", dir, "not a regular file (directory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			returnsPromptly(t, func() {
				c = Load(context.Background(),
					WithEnv(envMap(map[string]string{"FLOWTRACE_K8S_LABELS_FILE": tc.path})),
					withBuildInfo(testBuildInfo))
			})
			require.Len(t, c.Warnings, 1, "%q", c.Warnings)
			require.Contains(t, c.Warnings[0], "labels file")
			require.Contains(t, c.Warnings[0], tc.warning)
			require.Equal(t, "inventory", c.ServiceName)
			require.Equal(t, "main module", c.ServiceNameSource)
		})
	}

	// A huge file: its first 64 KiB are read (a prefix of zeros holds no
	// label), memory stays bounded, no warning.
	var c Config
	returnsPromptly(t, func() {
		c = Load(context.Background(),
			WithEnv(envMap(map[string]string{"FLOWTRACE_K8S_LABELS_FILE": huge})),
			withBuildInfo(testBuildInfo))
	})
	require.Empty(t, c.Warnings)
	require.Equal(t, "inventory", c.ServiceName)
}
