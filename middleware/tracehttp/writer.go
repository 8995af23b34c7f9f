//lint:file-ignore SA1019 CloseNotifier is deprecated, but a wrapper that drops it would hide an interface the wrapped writer has.

package tracehttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/felixge/httpsnoop"
)

// The optional interfaces a ResponseWriter may have, as httpsnoop knows
// them. A wrapper must offer exactly the set of the writer it wraps.
const (
	ifFlusher = 1 << iota
	ifFlushError
	ifCloseNotifier
	ifHijacker
	ifReaderFrom
	ifDeadliner
	ifFullDuplex
	ifPusher
	ifStringWriter
)

type flushErrorer interface{ FlushError() error }

type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

type fullDuplexEnabler interface{ EnableFullDuplex() error }

func interfacesOf(w http.ResponseWriter) int {
	m := 0
	if _, ok := w.(http.Flusher); ok {
		m |= ifFlusher
	}
	if _, ok := w.(flushErrorer); ok {
		m |= ifFlushError
	}
	if _, ok := w.(http.CloseNotifier); ok {
		m |= ifCloseNotifier
	}
	if _, ok := w.(http.Hijacker); ok {
		m |= ifHijacker
	}
	if _, ok := w.(io.ReaderFrom); ok {
		m |= ifReaderFrom
	}
	if _, ok := w.(deadliner); ok {
		m |= ifDeadliner
	}
	if _, ok := w.(fullDuplexEnabler); ok {
		m |= ifFullDuplex
	}
	if _, ok := w.(http.Pusher); ok {
		m |= ifPusher
	}
	if _, ok := w.(io.StringWriter); ok {
		m |= ifStringWriter
	}
	return m
}

// The interface sets of net/http's HTTP/1 and HTTP/2 writers and of
// httptest.ResponseRecorder get wrappers of their own, allocated once per
// request; any other writer goes through httpsnoop, which covers every
// combination at the cost of a few closures.
const (
	setHTTP1    = ifFlusher | ifFlushError | ifCloseNotifier | ifHijacker | ifReaderFrom | ifDeadliner | ifFullDuplex | ifStringWriter
	setHTTP2    = ifFlusher | ifFlushError | ifCloseNotifier | ifDeadliner | ifFullDuplex | ifPusher | ifStringWriter
	setRecorder = ifFlusher | ifStringWriter
)

// wrapWriter returns w observed by a respState, offering exactly w's
// optional interfaces.
func wrapWriter(w http.ResponseWriter) (http.ResponseWriter, *respState) {
	switch interfacesOf(w) {
	case setHTTP1:
		rw := &http1Writer{observed{w: w}}
		return rw, &rw.st
	case setHTTP2:
		rw := &http2Writer{observed{w: w}}
		return rw, &rw.st
	case setRecorder:
		rw := &recorderWriter{observed{w: w}}
		return rw, &rw.st
	}
	// httpsnoop keeps every optional interface of w and Unwrap; it calls a
	// hook only for a method w has, so observed's methods can stand for the
	// next ones (w's own).
	o := &observed{w: w}
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc { return o.WriteHeader },
		Write:       func(httpsnoop.WriteFunc) httpsnoop.WriteFunc { return o.Write },
		WriteString: func(httpsnoop.WriteStringFunc) httpsnoop.WriteStringFunc { return o.writeString },
		ReadFrom:    func(httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc { return o.readFrom },
		Hijack:      func(httpsnoop.HijackFunc) httpsnoop.HijackFunc { return o.hijack },
	}), &o.st
}

// observed is the part every wrapper shares: the ResponseWriter methods,
// the optional ones, and Unwrap for http.ResponseController. Each wrapper
// type below exposes only the methods its set has.
type observed struct {
	w  http.ResponseWriter
	st respState
}

func (o *observed) Header() http.Header { return o.w.Header() }

func (o *observed) WriteHeader(code int) {
	o.st.header(code)
	o.w.WriteHeader(code)
}

func (o *observed) Write(b []byte) (int, error) {
	o.st.wrote()
	n, err := o.w.Write(b)
	o.st.written += int64(n)
	return n, err
}

func (o *observed) writeString(s string) (int, error) {
	o.st.wrote()
	n, err := o.w.(io.StringWriter).WriteString(s)
	o.st.written += int64(n)
	return n, err
}

func (o *observed) readFrom(src io.Reader) (int64, error) {
	o.st.wrote()
	n, err := o.w.(io.ReaderFrom).ReadFrom(src)
	o.st.written += n
	return n, err
}

func (o *observed) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := o.w.(http.Hijacker).Hijack()
	if err == nil {
		o.st.hijacked = true
	}
	return c, rw, err
}

func (o *observed) Unwrap() http.ResponseWriter { return o.w }

type http1Writer struct{ observed }

func (w *http1Writer) Flush()                                       { w.w.(http.Flusher).Flush() }
func (w *http1Writer) FlushError() error                            { return w.w.(flushErrorer).FlushError() }
func (w *http1Writer) CloseNotify() <-chan bool                     { return w.w.(http.CloseNotifier).CloseNotify() }
func (w *http1Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w *http1Writer) ReadFrom(src io.Reader) (int64, error)        { return w.readFrom(src) }
func (w *http1Writer) SetReadDeadline(t time.Time) error            { return w.w.(deadliner).SetReadDeadline(t) }
func (w *http1Writer) SetWriteDeadline(t time.Time) error           { return w.w.(deadliner).SetWriteDeadline(t) }
func (w *http1Writer) EnableFullDuplex() error                      { return w.w.(fullDuplexEnabler).EnableFullDuplex() }
func (w *http1Writer) WriteString(s string) (int, error)            { return w.writeString(s) }

type http2Writer struct{ observed }

func (w *http2Writer) Flush()                             { w.w.(http.Flusher).Flush() }
func (w *http2Writer) FlushError() error                  { return w.w.(flushErrorer).FlushError() }
func (w *http2Writer) CloseNotify() <-chan bool           { return w.w.(http.CloseNotifier).CloseNotify() }
func (w *http2Writer) SetReadDeadline(t time.Time) error  { return w.w.(deadliner).SetReadDeadline(t) }
func (w *http2Writer) SetWriteDeadline(t time.Time) error { return w.w.(deadliner).SetWriteDeadline(t) }
func (w *http2Writer) EnableFullDuplex() error            { return w.w.(fullDuplexEnabler).EnableFullDuplex() }
func (w *http2Writer) Push(target string, o *http.PushOptions) error {
	return w.w.(http.Pusher).Push(target, o)
}
func (w *http2Writer) WriteString(s string) (int, error) { return w.writeString(s) }

type recorderWriter struct{ observed }

func (w *recorderWriter) Flush()                            { w.w.(http.Flusher).Flush() }
func (w *recorderWriter) WriteString(s string) (int, error) { return w.writeString(s) }
