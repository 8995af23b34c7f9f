package safefile

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(p, []byte("hello\nworld\n"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(p, link))

	for _, path := range []string{p, link} {
		b, err := Read(path, 1<<10, DefaultTimeout)
		require.NoError(t, err)
		require.Equal(t, "hello\nworld\n", string(b))
	}

	b, truncated, err := ReadPrefix(p, 8, DefaultTimeout)
	require.NoError(t, err)
	require.True(t, truncated)
	require.Equal(t, "hello\nwo", string(b))

	_, err = Read(p, 8, DefaultTimeout)
	require.ErrorIs(t, err, ErrTooLarge)

	_, err = Read(filepath.Join(dir, "missing"), 8, DefaultTimeout)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestReadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(8<<30)) // sparse: 8 GiB that cost no disk
	require.NoError(t, f.Close())

	cases := []struct {
		name string
		path string
		want error
	}{
		{"directory", dir, ErrNotRegular},
		{"dev zero", "/dev/zero", ErrNotRegular},
		{"dev null", "/dev/null", ErrNotRegular},
		{"huge file", huge, ErrTooLarge},
	}
	cases = append(cases, specialCases(t, dir)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.path, 1<<20, DefaultTimeout)
			require.ErrorIs(t, err, tc.want)
			_, _, err = ReadPrefix(tc.path, 1<<20, DefaultTimeout)
			if tc.want == ErrTooLarge {
				require.NoError(t, err) // a prefix of a huge file is fine
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			if tc.want == ErrNotRegular {
				_, err = OpenAppend(tc.path)
				require.ErrorIs(t, err, ErrNotRegular)
			}
		})
	}
}

func TestReadPrefixFS(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/labels": {Data: []byte("app=\"x\"\n")},
		"etc/dir":    {Mode: fs.ModeDir},
		"etc/pipe":   {Mode: fs.ModeNamedPipe},
	}
	b, truncated, err := ReadPrefixFS(fsys, "etc/labels", 64, DefaultTimeout)
	require.NoError(t, err)
	require.False(t, truncated)
	require.Equal(t, "app=\"x\"\n", string(b))

	for _, name := range []string{"etc/dir", "etc/pipe"} {
		_, _, err := ReadPrefixFS(fsys, name, 64, DefaultTimeout)
		require.ErrorIs(t, err, ErrNotRegular, name)
	}
	_, _, err = ReadPrefixFS(fsys, "etc/none", 64, DefaultTimeout)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// hangFS is a file system whose Stat never answers until released, like a
// hung network mount.
type hangFS struct{ release chan struct{} }

func (h hangFS) Open(name string) (fs.File, error) {
	<-h.release
	return nil, fs.ErrNotExist
}

func TestReadPrefixFSDeadline(t *testing.T) {
	h := hangFS{release: make(chan struct{})}
	defer close(h.release) // lets the helper goroutine exit (goleak)
	_, _, err := ReadPrefixFS(h, "etc/labels", 64, 50*time.Millisecond)
	require.ErrorIs(t, err, ErrTimeout)
}

func TestOpenAppend(t *testing.T) {
	p := filepath.Join(t.TempDir(), "spans.json")
	for _, line := range []string{"one\n", "two\n"} {
		f, err := OpenAppend(p)
		require.NoError(t, err)
		_, err = f.WriteString(line)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "one\ntwo\n", string(b))
}
