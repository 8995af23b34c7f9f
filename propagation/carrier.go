package propagation

import (
	"net/http"
	"net/textproto"
	"strings"

	"github.com/opentracing/opentracing-go"
)

// Compile-time checks.
var (
	_ MultiValueCarrier = HeaderCarrier(nil)
	_ Carrier           = MapCarrier(nil)
	_ MultiValueCarrier = (*textMapAdapter)(nil)
)

// HeaderCarrier adapts http.Header. Keys match case-insensitively, Set
// replaces all field lines of a key, and Values exposes every field line so
// that formats which must see duplicates (traceparent) can.
type HeaderCarrier http.Header

// canonicalKeys maps the keys flowtrace's formats use to their canonical
// MIME form, so that the common lookups do not allocate.
var canonicalKeys = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{
		traceparentHeader, tracestateHeader, baggageHeader, flowIDHeader,
		b3SingleHeader, b3TraceIDHeader, b3SpanIDHeader, b3ParentSpanIDHeader,
		b3SampledHeader, b3FlagsHeader, jaegerHeader,
	} {
		c := textproto.CanonicalMIMEHeaderKey(k)
		m[k] = c
		m[strings.ToLower(k)] = c
		m[c] = c
	}
	return m
}()

func (h HeaderCarrier) canonical(key string) string {
	if c, ok := canonicalKeys[key]; ok {
		return c
	}
	return textproto.CanonicalMIMEHeaderKey(key)
}

func (h HeaderCarrier) lines(key string) []string {
	if v, ok := h[key]; ok {
		return v
	}
	return h[h.canonical(key)]
}

// Get returns the first value of key, or "".
func (h HeaderCarrier) Get(key string) string {
	v := h.lines(key)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Values returns every field line of key. The slice is the header's own:
// callers must not change it.
func (h HeaderCarrier) Values(key string) []string { return h.lines(key) }

// Set replaces all values of key with value.
func (h HeaderCarrier) Set(key, value string) {
	h[h.canonical(key)] = []string{value}
}

// Keys returns the header names (canonical form).
func (h HeaderCarrier) Keys() []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}

// MapCarrier adapts a map[string]string. Get is an O(1) map lookup when the
// key is stored exactly as asked or in lower case, and falls back to a
// case-insensitive scan for mixed-case keys. Set stores the key as given and
// removes other spellings of the same key, so that Set replaces.
type MapCarrier map[string]string

// Get returns the value of key, matched case-insensitively.
func (m MapCarrier) Get(key string) string {
	if v, ok := m[key]; ok {
		return v
	}
	if lk, changed := lowerASCII(key); changed {
		if v, ok := m[lk]; ok {
			return v
		}
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// Set stores value under key exactly as given, replacing any other spelling
// of key.
func (m MapCarrier) Set(key, value string) {
	for k := range m {
		if k != key && strings.EqualFold(k, key) {
			delete(m, k)
		}
	}
	m[key] = value
}

// Keys returns the map's keys.
func (m MapCarrier) Keys() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// lowerASCII lower-cases s, allocating only when s has an upper-case letter.
func lowerASCII(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s), true
		}
	}
	return s, false
}

// TextMapCarrier returns a Carrier for an OpenTracing carrier, as passed to
// opentracing.Tracer.Inject and Extract with the TextMap or HTTPHeaders
// format. It reports false when c is none of the supported kinds:
//
//   - opentracing.HTTPHeadersCarrier and http.Header map onto [HeaderCarrier]
//     without copying;
//   - opentracing.TextMapCarrier and map[string]string map onto [MapCarrier]
//     without copying;
//   - a [Carrier] is returned as is;
//   - any other opentracing.TextMapReader and/or opentracing.TextMapWriter is
//     adapted: Set calls the writer's Set, and Get/Keys/Values collect the
//     reader's ForeachKey once, lazily, on first use (keys case-insensitive).
//     A reader-only carrier ignores Set; a writer-only carrier reads empty.
func TextMapCarrier(c any) (Carrier, bool) {
	switch v := c.(type) {
	case opentracing.HTTPHeadersCarrier:
		return HeaderCarrier(v), true
	case http.Header:
		return HeaderCarrier(v), true
	case HeaderCarrier:
		return v, true
	case opentracing.TextMapCarrier:
		return MapCarrier(v), true
	case map[string]string:
		return MapCarrier(v), true
	case MapCarrier:
		return v, true
	case Carrier:
		return v, true
	}
	r, _ := c.(opentracing.TextMapReader)
	w, _ := c.(opentracing.TextMapWriter)
	if r == nil && w == nil {
		return nil, false
	}
	return &textMapAdapter{r: r, w: w}, true
}

// textMapAdapter adapts an OpenTracing TextMapReader/TextMapWriter.
type textMapAdapter struct {
	r         opentracing.TextMapReader
	w         opentracing.TextMapWriter
	collected bool
	keys      []string            // first spelling of each key, in order
	values    map[string][]string // by lower-case key
}

func (a *textMapAdapter) collect() {
	if a.collected {
		return
	}
	a.collected = true
	a.values = make(map[string][]string)
	if a.r == nil {
		return
	}
	_ = a.r.ForeachKey(func(k, v string) error {
		lk, _ := lowerASCII(k)
		if _, seen := a.values[lk]; !seen {
			a.keys = append(a.keys, k)
		}
		a.values[lk] = append(a.values[lk], v)
		return nil
	})
}

func (a *textMapAdapter) Values(key string) []string {
	a.collect()
	lk, _ := lowerASCII(key)
	return a.values[lk]
}

func (a *textMapAdapter) Get(key string) string {
	if v := a.Values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (a *textMapAdapter) Set(key, value string) {
	if a.w == nil {
		return
	}
	a.w.Set(key, value)
	if a.collected {
		lk, _ := lowerASCII(key)
		if _, seen := a.values[lk]; !seen {
			a.keys = append(a.keys, key)
		}
		a.values[lk] = []string{value}
	}
}

func (a *textMapAdapter) Keys() []string {
	a.collect()
	return append([]string(nil), a.keys...)
}
