package config

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds of the key=value list parsers.
const (
	maxHeaders        = 64
	maxHeaderKeyLen   = 256
	maxHeaderValueLen = 4096
	maxResourceAttrs  = 128
	maxAttrKeyLen     = 256
	maxAttrValueLen   = 4096
)

// parseHeaders parses OTEL_EXPORTER_OTLP_HEADERS: "k=v,k2=v2" with
// percent-encoded keys and values (W3C baggage style, without properties).
// Keys are lower-cased HTTP tokens (gRPC metadata wants lower case); values
// must be printable ASCII. A later duplicate key replaces an earlier one. It
// returns at most maxHeaders headers and the number of entries dropped.
func parseHeaders(s string) (map[string]string, int) {
	h := map[string]string{}
	bad := 0
	for entry := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, ok := splitKV(entry)
		if ok {
			k = strings.ToLower(k)
		}
		if !ok || !validHeader(k, v) {
			bad++
			continue
		}
		if _, dup := h[k]; !dup && len(h) == maxHeaders {
			bad++
			continue
		}
		h[k] = v
	}
	return h, bad
}

// validHeader reports whether k is a non-empty HTTP token and v printable
// ASCII (tabs allowed), both within bounds.
func validHeader(k, v string) bool {
	if k == "" || len(k) > maxHeaderKeyLen || len(v) > maxHeaderValueLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isTokenChar(k[i]) {
			return false
		}
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// splitKV splits "key=value" at the first '=', trims spaces and
// percent-decodes both halves.
func splitKV(entry string) (k, v string, ok bool) {
	rawK, rawV, found := strings.Cut(entry, "=")
	if !found {
		return "", "", false
	}
	k, err := url.PathUnescape(strings.TrimSpace(rawK))
	if err != nil {
		return "", "", false
	}
	v, err = url.PathUnescape(strings.TrimSpace(rawV))
	if err != nil {
		return "", "", false
	}
	return strings.TrimSpace(k), strings.TrimSpace(v), true
}

// parseResourceAttributes parses OTEL_RESOURCE_ATTRIBUTES: "k=v,k2=v2" with
// percent-encoded values; every value is a string. A later duplicate key
// replaces an earlier one in place. Keys must be printable and values valid
// UTF-8, within bounds; at most maxResourceAttrs attributes are returned,
// plus the dropped entries (raw, for the warning).
func parseResourceAttributes(s string) ([]Attribute, []string) {
	var attrs []Attribute
	var bad []string
	index := map[string]int{}
	for entry := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, ok := splitKV(entry)
		if !ok || !validAttrKey(k) || len(v) > maxAttrValueLen || !utf8.ValidString(v) {
			bad = append(bad, entry)
			continue
		}
		if i, dup := index[k]; dup {
			attrs[i].Value = v
			continue
		}
		if len(attrs) == maxResourceAttrs {
			bad = append(bad, entry)
			continue
		}
		index[k] = len(attrs)
		attrs = append(attrs, Attribute{Key: k, Value: v})
	}
	return attrs, bad
}

// validAttrKey accepts non-empty keys of printable ASCII without spaces.
func validAttrKey(k string) bool {
	if k == "" || len(k) > maxAttrKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] >= 0x7f {
			return false
		}
	}
	return true
}

// maxLabels bounds the number of labels kept from the downward-API file.
const maxLabels = 256

// parseLabels parses a Kubernetes downward-API labels file: one
// key="value" per line, the value Go-quoted. Malformed lines are ignored.
func parseLabels(b []byte) map[string]string {
	labels := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, q, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || !validAttrKey(k) || len(q) < 2 || q[0] != '"' {
			continue
		}
		v, err := strconv.Unquote(q)
		if err != nil || len(v) > maxAttrValueLen || !utf8.ValidString(v) {
			continue
		}
		if _, dup := labels[k]; !dup && len(labels) == maxLabels {
			continue
		}
		labels[k] = v
	}
	return labels
}

// cleanValue returns s if it is non-empty, at most max bytes and free of
// control characters and invalid UTF-8, else "".
func cleanValue(s string, max int) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ""
		}
	}
	return s
}
