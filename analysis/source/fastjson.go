package source

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/flowtrace/flowtrace/analysis/trace"
)

// fastDecoder decodes the OTLP/JSON documents exporters write straight
// into model spans, without pdata's intermediate objects: on a large file
// pdata's parser, its objects and the garbage they leave were over half of
// a tool's CPU time. It is deliberately narrow. It knows the field names
// exporters write (camelCase), plain numbers, hex ids and the escapes
// JSON encoders produce; on anything else (snake_case names, unknown
// fields, numbers as strings, nulls, surrogate escapes, zero or malformed
// ids, duplicate fields, base64 bytes, deep nesting, any syntax error) it
// gives up and the document goes to pdata, whose result or error stands.
// So whatever it accepts, it decodes exactly as [FromPtrace] of pdata's
// result would (FuzzFastJSONMatchesPdata checks this).
//
// It also shares strings: attribute keys, service and span names and
// short attribute values repeat across spans, and one copy of each (and
// of the interface value holding it) serves them all, so a held span
// costs less memory and the collector has less to scan.
type fastDecoder struct {
	b   []byte
	i   int
	bad bool

	strs map[string]string // interned keys, names, short values
	vals map[string]any    // interned short string values as attribute values
	res  map[string]any    // the current resource's attributes
	out  []*trace.Span
	tid  string // the last trace id decoded (spans of a trace come together)
}

// Bounds of the interning tables: once full, new strings are copied per
// span (a file of unique values must not grow the tables without bound).
const (
	maxInterned    = 1 << 14
	maxInternedLen = 64
	maxNesting     = 16
)

var epoch = time.Unix(0, 0).UTC()

func newFastDecoder() *fastDecoder {
	return &fastDecoder{strs: map[string]string{}, vals: map[string]any{}}
}

// decode returns the spans of doc, or ok false when doc is outside what
// the decoder knows (then nothing it returned is used).
func (d *fastDecoder) decode(doc []byte) (spans []*trace.Span, ok bool) {
	d.b, d.i, d.bad, d.out, d.res = doc, 0, false, nil, nil
	d.object(func(key []byte) bool {
		if string(key) != "resourceSpans" {
			return false
		}
		d.array(d.resourceSpans)
		return true
	})
	d.ws()
	if d.i != len(d.b) {
		d.bad = true
	}
	out := d.out
	d.b, d.out, d.res = nil, nil, nil
	if d.bad {
		return nil, false
	}
	if out == nil {
		out = []*trace.Span{}
	}
	return out, true
}

func (d *fastDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// expect consumes c after blanks.
func (d *fastDecoder) expect(c byte) bool {
	d.ws()
	if d.bad || d.i >= len(d.b) || d.b[d.i] != c {
		d.bad = true
		return false
	}
	d.i++
	return true
}

func (d *fastDecoder) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		d.bad = true
		return 0
	}
	return d.b[d.i]
}

// object reads an object, calling field for each key with the reader at
// its value; field returns false for a key it does not know. A key given
// twice is refused (pdata's handling of repeats is not worth copying).
func (d *fastDecoder) object(field func(key []byte) bool) {
	if !d.expect('{') {
		return
	}
	if d.peek() == '}' {
		d.i++
		return
	}
	var seen [16][]byte // an OTLP span has 16 fields
	n := 0
	for !d.bad {
		key, ok := d.rawString()
		if !ok || !d.expect(':') || n == len(seen) {
			d.bad = true
			return
		}
		for _, k := range seen[:n] {
			if string(k) == string(key) {
				d.bad = true
				return
			}
		}
		seen[n] = key
		n++
		if !field(key) {
			d.bad = true
			return
		}
		if d.bad {
			return
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.bad = true
		}
	}
}

// array reads an array, calling elem with the reader at each element.
func (d *fastDecoder) array(elem func()) {
	if !d.expect('[') {
		return
	}
	if d.peek() == ']' {
		d.i++
		return
	}
	for !d.bad {
		elem()
		if d.bad {
			return
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return
		default:
			d.bad = true
		}
	}
}

// rawString reads a string without escapes and returns its bytes (valid
// until the document is released); strings with escapes or control
// characters are refused.
func (d *fastDecoder) rawString() ([]byte, bool) {
	if !d.expect('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			return s, true
		case c == '\\' || c < 0x20:
			d.bad = true
			return nil, false
		}
		d.i++
	}
	d.bad = true
	return nil, false
}

// str reads a string value, unescaping the escapes JSON encoders write.
// Bytes that are not UTF-8 are kept as they are, as pdata keeps them.
func (d *fastDecoder) str() string {
	if !d.expect('"') {
		return ""
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			s := d.b[start:d.i]
			d.i++
			return d.intern(s)
		}
		if c == '\\' {
			return d.escaped(start)
		}
		if c < 0x20 {
			d.bad = true
			return ""
		}
		d.i++
	}
	d.bad = true
	return ""
}

func (d *fastDecoder) escaped(start int) string {
	buf := append([]byte(nil), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.intern(buf)
		case c < 0x20:
			d.bad = true
			return ""
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if d.i+4 > len(d.b) {
				d.bad = true
				return ""
			}
			r, err := strconv.ParseUint(string(d.b[d.i:d.i+4]), 16, 32)
			if err != nil || (r >= 0xd800 && r < 0xe000) {
				d.bad = true // surrogates: pdata's pairing rules are not copied
				return ""
			}
			buf = utf8.AppendRune(buf, rune(r))
			d.i += 4
		default:
			d.bad = true
			return ""
		}
	}
	d.bad = true
	return ""
}

func (d *fastDecoder) intern(b []byte) string {
	if len(b) > maxInternedLen {
		return string(b)
	}
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	return s
}

// uint reads an unsigned integer written as a JSON number of digits.
func (d *fastDecoder) uint(bits int) uint64 {
	d.ws()
	start := d.i
	var v uint64
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		if v > (math.MaxUint64-9)/10 {
			d.bad = true
			return 0
		}
		v = v*10 + uint64(d.b[d.i]-'0')
		d.i++
	}
	n := d.i - start
	if n == 0 || (n > 1 && d.b[start] == '0') || d.numberGoesOn() || (bits < 64 && v >= 1<<bits) {
		d.bad = true
		return 0
	}
	return v
}

// numberGoesOn reports a number continuing past the digits read (a
// fraction or exponent), which the integer fields do not take here.
func (d *fastDecoder) numberGoesOn() bool {
	if d.i >= len(d.b) {
		return false
	}
	switch d.b[d.i] {
	case '.', 'e', 'E', '-', '+':
		return true
	}
	return false
}

// timestamp reads a uint64 nanosecond time, as a number or a string of
// digits (pdata writes strings).
func (d *fastDecoder) timestamp() time.Time {
	var v uint64
	if d.peek() == '"' {
		b, ok := d.rawString()
		if !ok || len(b) == 0 || len(b) > 20 {
			d.bad = true
			return time.Time{}
		}
		u, err := strconv.ParseUint(string(b), 10, 64)
		if err != nil {
			d.bad = true
			return time.Time{}
		}
		v = u
	} else {
		v = d.uint(64)
	}
	return time.Unix(0, int64(v)).UTC()
}

// hexID reads a lower-case hex id of n digits that is not all zeros;
// zero reports an all-zero id (which pdata treats as absent).
func (d *fastDecoder) hexID(n int) (id string, zero bool) {
	b, ok := d.rawString()
	if !ok || len(b) != n {
		d.bad = true
		return "", false
	}
	zero = true
	for _, c := range b {
		switch {
		case c == '0':
		case '1' <= c && c <= '9', 'a' <= c && c <= 'f':
			zero = false
		default:
			d.bad = true
			return "", false
		}
	}
	if zero {
		return "", true
	}
	if n == 32 && d.tid == string(b) {
		return d.tid, false
	}
	s := string(b)
	if n == 32 {
		d.tid = s
	}
	return s, false
}

func (d *fastDecoder) resourceSpans() {
	d.res = nil
	// scopeSpans before resource (pdata's order is resource first) are
	// passed over and read once the resource is known.
	var scopes [][2]int
	resource := false
	service := "unknown"
	d.object(func(key []byte) bool {
		switch string(key) {
		case "resource":
			resource = true
			d.object(func(key []byte) bool {
				switch string(key) {
				case "attributes":
					d.res = d.attributes()
				case "droppedAttributesCount":
					d.uint(32)
				default:
					return false
				}
				return true
			})
			if d.res == nil {
				d.res = map[string]any{}
			}
			if v, ok := d.res[trace.AttrServiceName].(string); ok && v != "" {
				service = v
			}
		case "scopeSpans":
			if resource {
				d.array(func() { d.scopeSpans(service) })
				return true
			}
			d.ws()
			start := d.i
			d.skip(0)
			scopes = append(scopes, [2]int{start, d.i})
		case "schemaUrl":
			d.str()
		default:
			return false
		}
		return true
	})
	if d.bad {
		return
	}
	if d.res == nil {
		d.res = map[string]any{}
	}
	end := d.i
	for _, sc := range scopes {
		d.i = sc[0]
		d.array(func() { d.scopeSpans(service) })
		if d.bad {
			return
		}
	}
	d.i = end
}

func (d *fastDecoder) scopeSpans(service string) {
	d.object(func(key []byte) bool {
		switch string(key) {
		case "scope":
			d.object(func(key []byte) bool {
				switch string(key) {
				case "name", "version":
					d.str()
				case "attributes":
					d.attributes()
				case "droppedAttributesCount":
					d.uint(32)
				default:
					return false
				}
				return true
			})
		case "spans":
			d.array(func() { d.span(service) })
		case "schemaUrl":
			d.str()
		default:
			return false
		}
		return true
	})
}

func (d *fastDecoder) span(service string) {
	// An absent time is 0, the Unix epoch, as pdata gives it.
	s := &trace.Span{Service: service, Resource: d.res, Start: epoch, End: epoch}
	var haveTrace, haveSpan bool
	d.object(func(key []byte) bool {
		switch string(key) {
		case "traceId":
			var zero bool
			s.TraceID, zero = d.hexID(32)
			haveTrace = !zero
		case "spanId":
			var zero bool
			s.SpanID, zero = d.hexID(16)
			haveSpan = !zero
		case "parentSpanId":
			if d.peek() == '"' && d.i+1 < len(d.b) && d.b[d.i+1] == '"' {
				d.i += 2 // "": a root
				return true
			}
			s.ParentID, _ = d.hexID(16)
		case "traceState":
			d.str()
		case "flags", "droppedAttributesCount", "droppedEventsCount", "droppedLinksCount":
			d.uint(32)
		case "name":
			s.Name = d.str()
		case "kind":
			s.Kind = d.kind()
		case "startTimeUnixNano":
			s.Start = d.timestamp()
		case "endTimeUnixNano":
			s.End = d.timestamp()
		case "attributes":
			s.Attributes = d.attributes()
		case "events":
			d.array(d.event)
		case "links":
			d.array(func() {
				if l, ok := d.link(); ok {
					s.Links = append(s.Links, l)
				}
			})
		case "status":
			d.object(func(key []byte) bool {
				switch string(key) {
				case "message":
					s.StatusMessage = d.str()
				case "code":
					s.Error = d.statusCode() == 2
				default:
					return false
				}
				return true
			})
		default:
			return false
		}
		return true
	})
	if !haveTrace || !haveSpan {
		d.bad = true // pdata's path names the field in its error
	}
	if d.bad {
		return
	}
	if s.Attributes == nil {
		s.Attributes = map[string]any{}
	}
	d.out = append(d.out, s)
}

func (d *fastDecoder) kind() trace.Kind {
	if d.peek() == '"' {
		b, _ := d.rawString()
		switch string(b) {
		case "SPAN_KIND_UNSPECIFIED":
			return trace.KindUnspecified
		case "SPAN_KIND_INTERNAL":
			return trace.KindInternal
		case "SPAN_KIND_SERVER":
			return trace.KindServer
		case "SPAN_KIND_CLIENT":
			return trace.KindClient
		case "SPAN_KIND_PRODUCER":
			return trace.KindProducer
		case "SPAN_KIND_CONSUMER":
			return trace.KindConsumer
		}
		d.bad = true
		return 0
	}
	v := d.uint(8)
	if v > 5 {
		d.bad = true
	}
	return trace.Kind(v)
}

func (d *fastDecoder) statusCode() uint64 {
	if d.peek() == '"' {
		b, _ := d.rawString()
		switch string(b) {
		case "STATUS_CODE_UNSET":
			return 0
		case "STATUS_CODE_OK":
			return 1
		case "STATUS_CODE_ERROR":
			return 2
		}
		d.bad = true
		return 0
	}
	v := d.uint(8)
	if v > 2 {
		d.bad = true
	}
	return v
}

func (d *fastDecoder) event() {
	d.object(func(key []byte) bool {
		switch string(key) {
		case "timeUnixNano":
			d.timestamp()
		case "name":
			d.str()
		case "attributes":
			d.attributes()
		case "droppedAttributesCount":
			d.uint(32)
		default:
			return false
		}
		return true
	})
}

func (d *fastDecoder) link() (trace.Link, bool) {
	var l trace.Link
	var haveTrace, haveSpan bool
	d.object(func(key []byte) bool {
		switch string(key) {
		case "traceId":
			var zero bool
			l.TraceID, zero = d.hexID(32)
			haveTrace = !zero
		case "spanId":
			var zero bool
			l.SpanID, zero = d.hexID(16)
			haveSpan = !zero
		case "traceState":
			d.str()
		case "attributes":
			d.attributes()
		case "droppedAttributesCount", "flags":
			d.uint(32)
		default:
			return false
		}
		return true
	})
	if !haveTrace || !haveSpan {
		d.bad = true // zero link ids: left to pdata
	}
	return l, !d.bad
}

// attributes reads an array of key-value pairs into a map, later keys
// winning as in pdata's AsRaw.
func (d *fastDecoder) attributes() map[string]any {
	return d.kvs(0)
}

func (d *fastDecoder) kvs(depth int) map[string]any {
	m := map[string]any{}
	if depth > maxNesting {
		d.bad = true
		return m
	}
	d.array(func() {
		var key string
		var val any
		var haveKey bool
		d.object(func(k []byte) bool {
			switch string(k) {
			case "key":
				key, haveKey = d.str(), true
			case "value":
				val = d.anyValue(depth + 1)
			default:
				return false
			}
			return true
		})
		if !haveKey {
			d.bad = true
		}
		if !d.bad {
			m[key] = val
		}
	})
	return m
}

// anyValue reads an AnyValue as pdata's AsRaw gives it: string, int64,
// float64, bool, []any, map[string]any, or nil when empty.
func (d *fastDecoder) anyValue(depth int) any {
	if depth > maxNesting {
		d.bad = true
		return nil
	}
	var v any
	d.object(func(key []byte) bool {
		if v != nil {
			return false // two values in one AnyValue
		}
		switch string(key) {
		case "stringValue":
			d.ws()
			start := d.i
			s := d.str()
			if d.bad {
				return true
			}
			if d.i-start-2 == len(s) && len(s) <= maxInternedLen {
				if iv, ok := d.vals[s]; ok {
					v = iv
					return true
				}
				v = s
				if len(d.vals) < maxInterned {
					d.vals[s] = v
				}
				return true
			}
			v = s
		case "intValue":
			v = d.int64()
		case "doubleValue":
			v = d.float()
		case "boolValue":
			v = d.boolean()
		case "arrayValue":
			var vs []any
			d.object(func(key []byte) bool {
				if string(key) != "values" {
					return false
				}
				d.array(func() { vs = append(vs, d.anyValue(depth+1)) })
				return true
			})
			if vs == nil {
				vs = []any{}
			}
			v = vs
		case "kvlistValue":
			var kv map[string]any
			d.object(func(key []byte) bool {
				if string(key) != "values" {
					return false
				}
				kv = d.kvs(depth + 1)
				return true
			})
			if kv == nil {
				kv = map[string]any{}
			}
			v = kv
		default:
			return false // bytesValue and anything unknown: pdata
		}
		return true
	})
	return v
}

func (d *fastDecoder) int64() int64 {
	switch d.peek() {
	case '"': // how pdata and the OTLP/JSON spec write int64
		b, ok := d.rawString()
		if !ok || len(b) > 24 {
			d.bad = true
			return 0
		}
		v, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			d.bad = true
		}
		return v
	case '-':
		d.i++
		u := d.uint(64)
		if u > 1<<63 {
			d.bad = true
			return 0
		}
		return -int64(u)
	}
	u := d.uint(64)
	if u > math.MaxInt64 {
		d.bad = true
		return 0
	}
	return int64(u)
}

// float reads a JSON number (strings such as "NaN" are left to pdata).
func (d *fastDecoder) float() float64 {
	d.ws()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	intStart := d.i
	n := digits()
	if n == 0 || (n > 1 && d.b[intStart] == '0') {
		d.bad = true
		return 0
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			d.bad = true
			return 0
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			d.bad = true
			return 0
		}
	}
	if d.i-start > 32 {
		d.bad = true // long mantissas: pdata's rounding is not copied
		return 0
	}
	f, err := strconv.ParseFloat(string(d.b[start:d.i]), 64)
	if err != nil {
		d.bad = true
		return 0
	}
	return f
}

func (d *fastDecoder) boolean() bool {
	d.ws()
	switch {
	case d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
		return true
	case d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
		return false
	}
	d.bad = true
	return false
}

// skip passes over one JSON value, checking only its brackets and
// strings (the scopeSpans arrays are skipped once to find what follows
// them, then read for real).
func (d *fastDecoder) skip(depth int) {
	if depth > 2*maxNesting+8 {
		d.bad = true
		return
	}
	switch d.peek() {
	case '{', '[':
		open := d.b[d.i]
		closer := byte('}')
		if open == '[' {
			closer = ']'
		}
		d.i++
		for !d.bad {
			c := d.peek()
			switch {
			case d.bad:
				return
			case c == closer:
				d.i++
				return
			case c == ',' || c == ':':
				d.i++
			default:
				d.skip(depth + 1)
			}
		}
	case '"':
		d.i++
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case '\\':
				d.i += 2
				continue
			case '"':
				d.i++
				return
			}
			d.i++
		}
		d.bad = true
	default:
		for d.i < len(d.b) {
			switch d.b[d.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			d.i++
		}
	}
}
