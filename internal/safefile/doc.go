// Package safefile reads and opens the files that configuration names
// (certificates, label files, tag registries, the console file) without
// letting a wrong path hang or exhaust the process.
//
// A path from an environment variable can name anything: a FIFO (whose
// open(2) blocks until a writer appears, so a plain os.Open never returns),
// a device such as /dev/zero (an endless read that ends in "out of memory"),
// a directory, a socket, or a regular file of gigabytes. The functions here
// accept regular files only:
//
//   - the path is stat'ed first (following symbolic links, as Kubernetes
//     projected volumes need) and anything but a regular file is refused
//     before it is opened, so opening a device has no side effect;
//   - the open uses O_NONBLOCK, so a path swapped for a FIFO after the
//     stat still cannot block, and the opened file is fstat'ed again;
//   - a read stops at a stated size bound and at a deadline; the open and
//     the read run on a helper goroutine so that even a file system that
//     never answers (a hung network mount) costs the caller at most the
//     deadline. In that case the helper goroutine stays blocked in the
//     kernel until the file system answers; nothing in Go can interrupt a
//     read(2) on a regular file.
//
// Every refusal is an error wrapping one of [ErrNotRegular], [ErrTooLarge]
// or [ErrTimeout] (or the fs.PathError from the operating system), so that
// callers print exactly one warning and carry on.
package safefile
