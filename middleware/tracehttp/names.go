package tracehttp

import (
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
)

// methodOther replaces methods outside the known set, so that an attacker
// sending random methods cannot create unbounded span names.
const methodOther = "_OTHER"

// knownMethods are the methods of RFC 9110 and RFC 5789, in index order.
var knownMethods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace,
}

const numMethods = len(knownMethods) + 1 // + _OTHER

// methodIndex returns the index of m in knownMethods, or len(knownMethods)
// for anything else (methods are case-sensitive). An empty method means GET,
// as in net/http.
func methodIndex(m string) int {
	if m == "" {
		return 0
	}
	for i, k := range knownMethods {
		if m == k {
			return i
		}
	}
	return len(knownMethods)
}

// methodTags are the normalised methods as tag values, boxed once: a
// string from an array is not a constant, and putting it in an interface
// on every request would allocate.
var methodTags = func() (t [numMethods]any) {
	for i := range t {
		t[i] = methodName(i)
	}
	return t
}()

// routeNames holds the span names of one route for every method, built once,
// and the route as a tag value (boxed once, as methodTags).
type routeNames struct {
	route    string
	routeTag any
	names    [numMethods]string
}

func newRouteNames(route string) *routeNames {
	rn := &routeNames{route: route, routeTag: route}
	for i, m := range knownMethods {
		rn.names[i] = m + " " + route
	}
	rn.names[len(knownMethods)] = methodOther + " " + route
	return rn
}

// nameCache maps a route, or a ServeMux pattern, to its span names. A route
// function that returns unbounded values (a bug the docs warn about) costs
// a concatenation per request once it is full, instead of memory.
type nameCache struct{ instr.Cache[*routeNames] }

// forRule returns the names of the route template WithRoute's f gives for
// r (nil: no route), on either side.
func (c *nameCache) forRule(f func(*http.Request) string, r *http.Request) *routeNames {
	if route := f(r); route != "" {
		return c.Get(route, newRouteNames)
	}
	return nil
}

// forPattern returns the names of a ServeMux pattern ("GET host/path/{x}"):
// its route is the path part.
func (c *nameCache) forPattern(pattern string) *routeNames {
	return c.Get(pattern, func(p string) *routeNames { return newRouteNames(routeFromPattern(p)) })
}

// routeFromPattern returns the path of a ServeMux pattern
// "[METHOD ][HOST]/[PATH]": "GET example.com/items/{id}" → "/items/{id}".
func routeFromPattern(p string) string {
	p = strings.TrimSpace(p)
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimLeft(p[i+1:], " \t")
	}
	if i := strings.IndexByte(p, '/'); i > 0 {
		p = p[i:]
	}
	return p
}

// redirectPattern reports whether p, the pattern a ServeMux gave for r, is
// the target of a trailing-slash redirect rather than a registered pattern.
// For CONNECT (and only CONNECT) ServeMux.Handler, and ServeHTTP in
// Request.Pattern, return that target, which is the request's own path
// plus "/": a span named after it would carry the raw path, one name per
// request. Such a request is answered with a redirect, not by the route, so
// its span gets no route at all.
func redirectPattern(r *http.Request, p string) bool {
	if r.Method != http.MethodConnect || r.URL == nil || len(p) < 2 || p[0] != '/' || p[len(p)-1] != '/' {
		return false
	}
	return p == muxCleanPath(r.URL.Path)+"/"
}

// muxCleanPath is the path ServeMux builds its CONNECT redirect from: rooted
// and cleaned, keeping a trailing slash.
func muxCleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// Bounds on recorded request values.
const (
	maxHostLen      = 255
	maxUserAgentLen = 256
	maxPathLen      = 2048
	maxHeaderLen    = 256
	maxMethodLen    = 32
	maxPanicLen     = 1024
	maxStackLen     = 4096
	maxErrorLen     = 512
)

// sanitizeHost returns host when it looks like a host[:port] (DNS name, IPv4
// or bracketed IPv6 literal, at most 255 bytes) and false otherwise, so that
// a forged Host header cannot put arbitrary text into a tag.
func sanitizeHost(host string) (string, bool) {
	if host == "" || len(host) > maxHostLen {
		return "", false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_', c == '%':
		default:
			return "", false
		}
	}
	return host, true
}

// sanitizeText returns s cut to at most max bytes (on a rune boundary) with
// control characters, DEL and invalid UTF-8 replaced by '?'; it allocates
// only when it changes s. Used for user agents, recorded header values and
// other free text from the request.
func sanitizeText(s string, max int) string {
	clean := len(s) <= max
	if clean {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf {
				clean = false
				break
			}
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		out := s[i : i+size]
		// C0 controls, DEL, a byte that is not UTF-8, C1 controls.
		if r < 0x20 || r == 0x7f || r == utf8.RuneError && size == 1 || r >= 0x80 && r < 0xa0 {
			out = "?"
		}
		if b.Len()+len(out) > max {
			break
		}
		b.WriteString(out)
		i += size
	}
	return b.String()
}

// truncate cuts s to at most max bytes without splitting a UTF-8 sequence.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
