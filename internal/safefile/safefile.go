package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
)

// DefaultTimeout is the deadline callers use for files read at start-up.
// Local files are read in microseconds; the bound is for mounts that hang.
const DefaultTimeout = 2 * time.Second

var (
	// ErrNotRegular: the path names a FIFO, device, directory, socket or
	// other non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is longer than the caller's bound.
	ErrTooLarge = errors.New("file too large")
	// ErrTimeout: opening or reading took longer than the deadline.
	ErrTimeout = errors.New("deadline exceeded")
)

// Error is what every function here returns on failure: the operation, the
// path (quoted with Go escapes when printed, because paths come from the
// environment and must not inject lines into a log) and the reason, which
// errors.Is sees through (fs.ErrNotExist, ErrNotRegular, ...).
type Error struct {
	Op   string
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Op + " " + strconv.Quote(e.Path) + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// wrap turns the operating system's *fs.PathError into an *Error.
func wrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &Error{Op: pe.Op, Path: pe.Path, Err: pe.Err}
	}
	return err
}

// Refused reports whether err is one of this package's refusals (as opposed
// to an error from the operating system, such as a missing file).
func Refused(err error) bool {
	return errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrTimeout)
}

// chunk is how much one read asks for, so that a bound far above the file's
// size does not allocate the whole bound up front.
const chunk = 64 << 10

// Read returns the whole content of the regular file at path. A file longer
// than max bytes is refused with an error wrapping ErrTooLarge.
func Read(path string, max int64, timeout time.Duration) ([]byte, error) {
	b, truncated, err := ReadPrefix(path, max, timeout)
	if err != nil {
		return nil, err
	}
	if truncated {
		return nil, &Error{Op: "read", Path: path, Err: fmt.Errorf("%w (limit %d bytes)", ErrTooLarge, max)}
	}
	return b, nil
}

// ReadPrefix returns at most max bytes of the regular file at path;
// truncated reports that the file is longer. It is for files whose first
// part is still useful (line-oriented /proc files, label files).
func ReadPrefix(path string, max int64, timeout time.Duration) (b []byte, truncated bool, err error) {
	return withDeadline(path, timeout, func() ([]byte, bool, error) {
		if err := checkRegular(path, os.Stat); err != nil {
			return nil, false, err
		}
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		if err != nil {
			return nil, false, err
		}
		defer f.Close()
		return readFile(path, f, max)
	})
}

// ReadPrefixFS is ReadPrefix for a file of fsys (a name in the io/fs sense,
// without a leading slash). fs.FS has no non-blocking open, so the check
// before the open is what keeps a FIFO out; the deadline still bounds the
// call.
func ReadPrefixFS(fsys fs.FS, name string, max int64, timeout time.Duration) (b []byte, truncated bool, err error) {
	return withDeadline(name, timeout, func() ([]byte, bool, error) {
		if err := checkRegular(name, func(n string) (fs.FileInfo, error) { return fs.Stat(fsys, n) }); err != nil {
			return nil, false, err
		}
		f, err := fsys.Open(name)
		if err != nil {
			return nil, false, err
		}
		defer f.Close()
		return readFile(name, f, max)
	})
}

// OpenAppend opens the regular file at path for appending, creating it with
// mode 0644 when it does not exist. A FIFO, device, directory or socket is
// refused without blocking: an O_NONBLOCK write-only open of a FIFO with no
// reader fails at once (ENXIO) instead of waiting for one.
func OpenAppend(path string) (*os.File, error) {
	if err := checkRegular(path, os.Stat); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, wrap(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0o644)
	if err != nil {
		return nil, wrap(err)
	}
	if err := checkRegular(path, func(string) (fs.FileInfo, error) { return f.Stat() }); err != nil {
		f.Close()
		return nil, wrap(err)
	}
	return f, nil
}

// checkRegular refuses anything stat reports as other than a regular file.
func checkRegular(path string, stat func(string) (fs.FileInfo, error)) error {
	fi, err := stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &Error{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))}
	}
	return nil
}

// readFile checks the opened file again (the path may have been swapped
// since the first stat) and reads at most max bytes of it.
func readFile(path string, f fs.File, max int64) ([]byte, bool, error) {
	if err := checkRegular(path, func(string) (fs.FileInfo, error) { return f.Stat() }); err != nil {
		return nil, false, err
	}
	if max < 0 {
		max = 0
	}
	var b []byte
	buf := make([]byte, min(max+1, chunk))
	r := io.LimitReader(f, max+1)
	for {
		n, err := r.Read(buf)
		b = append(b, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, &Error{Op: "read", Path: path, Err: err}
		}
	}
	if int64(len(b)) > max {
		return b[:max], true, nil
	}
	return b, false, nil
}

type result struct {
	b         []byte
	truncated bool
	err       error
}

// withDeadline runs fn on its own goroutine and gives up after timeout
// (no deadline when timeout <= 0). The channel is buffered so that a late
// fn still finishes and exits.
func withDeadline(path string, timeout time.Duration, fn func() ([]byte, bool, error)) ([]byte, bool, error) {
	if timeout <= 0 {
		b, truncated, err := fn()
		return b, truncated, wrap(err)
	}
	done := make(chan result, 1)
	go func() {
		// A panic here (from an injected fs.FS) would kill the process:
		// no caller's recover can reach this goroutine.
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: &Error{Op: "read", Path: path, Err: fmt.Errorf("panic: %q", fmt.Sprint(r))}}
			}
		}()
		b, truncated, err := fn()
		done <- result{b, truncated, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.b, r.truncated, wrap(r.err)
	case <-t.C:
		return nil, false, &Error{Op: "read", Path: path, Err: fmt.Errorf("%w (%s)", ErrTimeout, timeout)}
	}
}

// kind names a non-regular file type for the warning.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "file of mode " + m.String()
}
