package tracehttp

import (
	"net/http"
	"net/http/httptest"
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
