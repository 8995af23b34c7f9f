package trace

import "testing"

// TestAttrBothVocabularies: a key is found under its alias in the other
// vocabulary, by span kind; the span's own key wins.
func TestAttrBothVocabularies(t *testing.T) {
	server := &Span{Kind: KindServer, Attributes: map[string]any{"http.response.status_code": int64(503), "url.path": "/a"}}
	client := &Span{Kind: KindClient, Attributes: map[string]any{"http.url": "http://x/a", "db.type": "postgresql", "db.system.name": "redis"}}
	for _, tc := range []struct {
		s         *Span
		key, want string
	}{
		{server, "http.status_code", "503"},
		{server, "http.url", "/a"},
		{server, "url.full", ""},
		{client, "url.full", "http://x/a"},
		{client, "url.path", ""},
		{client, "db.system.name", "redis"},
		{client, "db.system", "redis"},
		{client, "db.type", "postgresql"},
		{client, "rpc.system", ""},
	} {
		if got := tc.s.Str(tc.key); got != tc.want {
			t.Errorf("%v span: Str(%q) = %q, want %q", tc.s.Kind, tc.key, got, tc.want)
		}
	}
}

// BenchmarkAttr: what reading both vocabularies adds to a miss (the tools
// look up keys a span often does not carry).
func BenchmarkAttr(b *testing.B) {
	s := &Span{Kind: KindClient, Attributes: map[string]any{"http.method": "GET", "peer.service": "x", "a": 1, "b": 2}}
	for name, key := range map[string]string{"hit": "http.method", "miss-no-alias": "net.peer.name", "miss-alias": "db.system.name"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_, _ = s.Attr(key)
			}
		})
	}
}
