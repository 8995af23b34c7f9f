package tracehttp

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzSanitizeText(f *testing.F) {
	for _, s := range []string{"", "curl/8.0", "a\x00b\r\nc", "\x1b[31mred", "ünï\xffcode", strings.Repeat("é", 300), "\u0085\u009b"} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 4096 {
			return
		}
		out := sanitizeText(s, max)
		if len(out) > max {
			t.Fatalf("len %d > %d", len(out), max)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 %q", out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control character %U in %q", r, out)
			}
		}
		if utf8.ValidString(s) && len(s) <= max && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) && out != s {
			t.Fatalf("clean input changed: %q → %q", s, out)
		}
	})
}

func FuzzSanitizeHost(f *testing.F) {
	for _, s := range []string{"example.com", "example.com:8080", "[::1]:80", "a b", "evil\r\nX-Injected: 1", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := sanitizeHost(s)
		if !ok {
			if out != "" {
				t.Fatalf("rejected host returned %q", out)
			}
			return
		}
		if out != s || len(out) > maxHostLen || out == "" {
			t.Fatalf("bad host %q → %q", s, out)
		}
		if strings.ContainsAny(out, " \t\r\n/?#@\x00") {
			t.Fatalf("host %q has forbidden characters", out)
		}
	})
}

func FuzzSafeURL(f *testing.F) {
	for _, s := range []string{
		"http://user:pass@example.com/a/b?token=x#frag",
		"https://example.com:8443/%2e%2e/x?q",
		"/relative?x=1",
		"ftp://h/\x00",
		"http://[::1]:80/p",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		out := safeURL(u)
		if strings.ContainsAny(out, "?#") {
			t.Fatalf("safeURL(%q) = %q keeps query or fragment", s, out)
		}
		if u.User != nil && u.User.String() != "" && strings.Contains(out, u.User.String()+"@") {
			t.Fatalf("safeURL(%q) = %q keeps userinfo", s, out)
		}
		if len(out) > maxPathLen+maxHostLen+32 {
			t.Fatalf("unbounded: %d", len(out))
		}
	})
}

func FuzzRouteFromPattern(f *testing.F) {
	for _, s := range []string{"GET /users/{id}", "example.com/x", "/", "POST  host/a/{b...}", "", "GET"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := routeFromPattern(s)
		if len(out) > len(s) {
			t.Fatalf("route longer than pattern: %q → %q", s, out)
		}
	})
}
