package tracehttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/felixge/httpsnoop"
	"github.com/stretchr/testify/require"
)

// The hand-written wrappers must offer exactly the interfaces of the
// writers they are chosen for, as httpsnoop's would.
func TestWrapperSetsMatchTheirWriters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		set  int
	}{{"http1", setHTTP1}, {"http2", setHTTP2}, {"recorder", setRecorder}} {
		t.Run(tc.name, func(t *testing.T) {
			var w http.ResponseWriter
			switch tc.set {
			case setHTTP1:
				w = &http1Writer{}
			case setHTTP2:
				w = &http2Writer{}
			default:
				w = &recorderWriter{}
			}
			require.Equal(t, tc.set, interfacesOf(w))
		})
	}
	rec := httptest.NewRecorder()
	require.Equal(t, setRecorder, interfacesOf(rec))
	ww, _ := wrapWriter(rec)
	require.Equal(t, interfacesOf(rec), interfacesOf(ww))
	_, isOurs := ww.(*recorderWriter)
	require.True(t, isOurs)

	// Any other set goes through httpsnoop and keeps its interfaces.
	plain := struct{ http.ResponseWriter }{rec}
	ww, _ = wrapWriter(plain)
	require.Equal(t, interfacesOf(plain), interfacesOf(ww))
	require.Equal(t, http.ResponseWriter(plain), httpsnoop.Unwrap(ww))
}

// The real servers' writers hit the fast paths (TestServerKeepsInterfaces
// checks the sets end to end).
func TestRealWritersUseFastWrappers(t *testing.T) {
	t.Parallel()
	for _, h2 := range []bool{false, true} {
		var got http.ResponseWriter
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = wrapWriter(w)
		}))
		if h2 {
			srv.EnableHTTP2 = true
			srv.StartTLS()
		} else {
			srv.Start()
		}
		resp, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
		srv.Close()
		switch got.(type) {
		case *http1Writer, *http2Writer:
		default:
			t.Errorf("h2=%v: %T took the slow path", h2, got)
		}
	}
}

// oddWriter has a set of optional interfaces no fast wrapper covers.
type oddWriter struct {
	*httptest.ResponseRecorder
	hijacked bool
}

func (w *oddWriter) ReadFrom(src io.Reader) (int64, error) { return io.Copy(w.ResponseRecorder, src) }
func (w *oddWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return nil, nil, nil
}

// The httpsnoop path observes the response as the fast wrappers do.
func TestSlowPathObservesTheResponse(t *testing.T) {
	t.Parallel()
	w := &oddWriter{ResponseRecorder: httptest.NewRecorder()}
	ww, st := wrapWriter(w)
	require.Equal(t, interfacesOf(w), interfacesOf(ww))
	_, err := ww.(io.StringWriter).WriteString("ab")
	require.NoError(t, err)
	_, err = ww.Write([]byte("cde"))
	require.NoError(t, err)
	_, err = ww.(io.ReaderFrom).ReadFrom(strings.NewReader("fghi"))
	require.NoError(t, err)
	ww.WriteHeader(http.StatusTeapot) // too late: the first write sent 200
	require.Equal(t, respState{status: http.StatusOK, written: 9, wroteHeader: true}, *st)
	require.Equal(t, "abcdefghi", w.Body.String())

	w2 := &oddWriter{ResponseRecorder: httptest.NewRecorder()}
	ww, st = wrapWriter(w2)
	ww.WriteHeader(http.StatusAccepted)
	_, _, err = ww.(http.Hijacker).Hijack()
	require.NoError(t, err)
	require.True(t, w2.hijacked)
	require.Equal(t, respState{status: http.StatusAccepted, wroteHeader: true, hijacked: true}, *st)
}

// TestIsError: the default failure ranges of each side, and WithErrorStatus
// replacing them on both.
func TestIsError(t *testing.T) {
	t.Parallel()
	def := newConfig(nil)
	custom := newConfig([]Option{WithErrorStatus(func(s int) bool { return s == 404 })})
	for _, tc := range []struct {
		status                         int
		server, client, customOnEither bool
	}{
		{200, false, false, false}, {399, false, false, false}, {400, false, true, false},
		{404, false, true, true}, {499, false, true, false}, {500, true, true, false},
		{599, true, true, false}, {600, false, false, false},
	} {
		require.Equal(t, tc.server, def.isError(tc.status, true), "server %d", tc.status)
		require.Equal(t, tc.client, def.isError(tc.status, false), "client %d", tc.status)
		require.Equal(t, tc.customOnEither, custom.isError(tc.status, true), "custom server %d", tc.status)
		require.Equal(t, tc.customOnEither, custom.isError(tc.status, false), "custom client %d", tc.status)
	}
}

// TestMethodIndex: each known method names its own slot, "" is GET, and
// methods are case-sensitive.
func TestMethodIndex(t *testing.T) {
	t.Parallel()
	for i, m := range knownMethods {
		require.Equal(t, i, methodIndex(m), m)
		require.Equal(t, m, methodName(methodIndex(m)))
	}
	require.Equal(t, 0, methodIndex(""))
	for _, m := range []string{"get", "FOO", "GET ", "PROPFIND"} {
		require.Equal(t, methodOther, methodName(methodIndex(m)), m)
	}
}
