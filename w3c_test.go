package flowtrace

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
)

// The cases of the W3C Trace Context test suite (github.com/w3c/trace-context,
// test/test.py at commit acab820, run with SPEC_LEVEL=2 STRICT_LEVEL=2),
// with its inputs and expectations, checked the way its harness checks them:
// a service built on Start and the OpenTracing API receives a request with
// the given header lines and calls back; the callback's traceparent and
// tracestate are judged. CI cannot fetch the suite; internal/w3cservice is
// the service the official suite runs against.

const (
	w3cTrace  = "12345678901234567890123456789012"
	w3cParent = "1234567890123456"
	tp00      = "00-" + w3cTrace + "-" + w3cParent + "-00"
	tp01      = "00-" + w3cTrace + "-" + w3cParent + "-01"
)

type w3cCase struct {
	suite, test string
	headers     [][2]string
	callbacks   int // default 1
	// Expectations on the callback's traceparent. sameTrace: the trace id is
	// w3cTrace; notTrace lists trace ids it must not be (a new trace).
	sameTrace bool
	notTrace  []string
	flagBit   int // 1-based bit of trace-flags that must be set (0: none)
	// Expectations on the callback's tracestate, parsed as the harness does
	// (it rejects a header it cannot parse, and keeps the first of
	// duplicated keys).
	has      map[string]string
	absent   []string
	members  int      // exact member count, when > 0
	order    []string // substrings of the tracestate, in this order
	oneOf    []string // at least one of these substrings
	sameSize string   // compare the member count with the case of this name
}

func w3cCases() []w3cCase {
	tc := "TraceContextTest"
	z := func(n int, c string) string { return strings.Repeat(c, n) }
	keyNoVendor := "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
	keyVendor := keyNoVendor + "@a-z0-9_-*/"
	var value strings.Builder
	for c := 0x20; c <= 0x7e; c++ {
		if c != ',' && c != '=' {
			value.WriteByte(byte(c))
		}
	}
	members := func(from, to int) string {
		var b []string
		for i := from; i <= to; i++ {
			k := []byte("bar00=00")
			k[3], k[4], k[6], k[7] = byte('0'+i/10), byte('0'+i%10), byte('0'+i/10), byte('0'+i%10)
			b = append(b, string(k))
		}
		return strings.Join(b, ",")
	}
	return []w3cCase{
		{suite: tc, test: "test_both_traceparent_and_tracestate_missing"},
		{suite: tc, test: "test_traceparent_included_tracestate_missing", headers: [][2]string{{"traceparent", tp01}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_duplicated", headers: [][2]string{
			{"traceparent", "00-12345678901234567890123456789011-1234567890123456-01"}, {"traceparent", tp01},
		}, notTrace: []string{"12345678901234567890123456789011", w3cTrace}},
		{suite: tc, test: "test_traceparent_header_name/trace-parent", headers: [][2]string{{"trace-parent", tp01}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_header_name/trace.parent", headers: [][2]string{{"trace.parent", tp01}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_header_name_valid_casing/TraceParent", headers: [][2]string{{"TraceParent", tp01}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_header_name_valid_casing/TrAcEpArEnT", headers: [][2]string{{"TrAcEpArEnT", tp01}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_header_name_valid_casing/TRACEPARENT", headers: [][2]string{{"TRACEPARENT", tp01}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_version_0x00/trailing dot", headers: [][2]string{{"traceparent", tp01 + "."}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_0x00/future fields", headers: [][2]string{{"traceparent", tp01 + "-what-the-future-will-be-like"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_0xcc", headers: [][2]string{{"traceparent", "cc-" + w3cTrace + "-" + w3cParent + "-01"}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_version_0xcc/future fields", headers: [][2]string{{"traceparent", "cc-" + w3cTrace + "-" + w3cParent + "-01-what-the-future-will-be-like"}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_version_0xcc/dot", headers: [][2]string{{"traceparent", "cc-" + w3cTrace + "-" + w3cParent + "-01.what-the-future-will-be-like"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_0xff", headers: [][2]string{{"traceparent", "ff-" + w3cTrace + "-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_illegal_characters/.0", headers: [][2]string{{"traceparent", ".0-" + w3cTrace + "-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_illegal_characters/0.", headers: [][2]string{{"traceparent", "0.-" + w3cTrace + "-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_too_long/000", headers: [][2]string{{"traceparent", "000-" + w3cTrace + "-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_too_long/0000", headers: [][2]string{{"traceparent", "0000-" + w3cTrace + "-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_version_too_short", headers: [][2]string{{"traceparent", "0-" + w3cTrace + "-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_trace_id_all_zero", headers: [][2]string{{"traceparent", "00-" + z(32, "0") + "-" + w3cParent + "-01"}}, notTrace: []string{z(32, "0")}},
		{suite: tc, test: "test_traceparent_trace_id_illegal_characters/first", headers: [][2]string{{"traceparent", "00-.2345678901234567890123456789012-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_trace_id_illegal_characters/last", headers: [][2]string{{"traceparent", "00-1234567890123456789012345678901.-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_trace_id_too_long", headers: [][2]string{{"traceparent", "00-123456789012345678901234567890123-" + w3cParent + "-01"}}, notTrace: []string{w3cTrace, "23456789012345678901234567890123"}},
		{suite: tc, test: "test_traceparent_trace_id_too_short", headers: [][2]string{{"traceparent", "00-1234567890123456789012345678901-" + w3cParent + "-01"}}, notTrace: []string{"01234567890123456789012345678901"}},
		{suite: tc, test: "test_traceparent_parent_id_all_zero", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-0000000000000000-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_parent_id_illegal_characters/first", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-.234567890123456-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_parent_id_illegal_characters/last", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-123456789012345.-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_parent_id_too_long", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-12345678901234567-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_parent_id_too_short", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-123456789012345-01"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_trace_flags_illegal_characters/.0", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-" + w3cParent + "-.0"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_trace_flags_illegal_characters/0.", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-" + w3cParent + "-0."}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_trace_flags_too_long", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-" + w3cParent + "-001"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_trace_flags_too_short", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-" + w3cParent + "-1"}}, notTrace: []string{w3cTrace}},
		{suite: tc, test: "test_traceparent_ows_handling/leading space", headers: [][2]string{{"traceparent", " " + tp01}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_ows_handling/leading tab", headers: [][2]string{{"traceparent", "\t" + tp01}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_ows_handling/trailing space", headers: [][2]string{{"traceparent", tp01 + " "}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_ows_handling/trailing tab", headers: [][2]string{{"traceparent", tp01 + "\t"}}, sameTrace: true},
		{suite: tc, test: "test_traceparent_ows_handling/both", headers: [][2]string{{"traceparent", "\t " + tp01 + " \t"}}, sameTrace: true},

		{suite: tc, test: "test_tracestate_included_traceparent_missing/one", headers: [][2]string{{"tracestate", "foo=1"}}},
		{suite: tc, test: "test_tracestate_included_traceparent_missing/two", headers: [][2]string{{"tracestate", "foo=1,bar=2"}}, sameSize: "test_tracestate_included_traceparent_missing/one"},
		{suite: tc, test: "test_tracestate_included_traceparent_included", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1,bar=2"}}, sameTrace: true, has: map[string]string{"foo": "1", "bar": "2"}},
		{suite: tc, test: "test_tracestate_header_name/trace-state", headers: [][2]string{{"traceparent", tp00}, {"trace-state", "foo=1"}}, absent: []string{"foo"}},
		{suite: tc, test: "test_tracestate_header_name/trace.state", headers: [][2]string{{"traceparent", tp00}, {"trace.state", "foo=1"}}, absent: []string{"foo"}},
		{suite: tc, test: "test_tracestate_header_name_valid_casing/TraceState", headers: [][2]string{{"traceparent", tp00}, {"TraceState", "foo=1"}}, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_header_name_valid_casing/TrAcEsTaTe", headers: [][2]string{{"traceparent", tp00}, {"TrAcEsTaTe", "foo=1"}}, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_header_name_valid_casing/TRACESTATE", headers: [][2]string{{"traceparent", tp00}, {"TRACESTATE", "foo=1"}}, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_empty_header/empty", headers: [][2]string{{"traceparent", tp00}, {"tracestate", ""}}, sameTrace: true},
		{suite: tc, test: "test_tracestate_empty_header/then empty", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", ""}}, sameTrace: true, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_empty_header/empty first", headers: [][2]string{{"traceparent", tp00}, {"tracestate", ""}, {"tracestate", "foo=1"}}, sameTrace: true, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_multiple_headers_different_keys", headers: [][2]string{
			{"traceparent", tp00}, {"tracestate", "foo=1,bar=2"}, {"tracestate", "rojo=1,congo=2"}, {"tracestate", "baz=3"},
		}, sameTrace: true, order: []string{"foo=1", "bar=2", "rojo=1", "congo=2", "baz=3"}},
		{suite: tc, test: "test_tracestate_duplicated_keys/same value", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1,foo=1"}}, sameTrace: true, order: []string{"foo=1"}},
		{suite: tc, test: "test_tracestate_duplicated_keys/other value", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1,foo=2"}}, sameTrace: true, oneOf: []string{"foo=1", "foo=2"}},
		{suite: tc, test: "test_tracestate_duplicated_keys/two lines same", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", "foo=1"}}, sameTrace: true, order: []string{"foo=1"}},
		{suite: tc, test: "test_tracestate_duplicated_keys/two lines other", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", "foo=2"}}, sameTrace: true, oneOf: []string{"foo=1", "foo=2"}},
		{suite: tc, test: "test_tracestate_all_allowed_characters/no vendor", headers: [][2]string{{"traceparent", tp00}, {"tracestate", keyNoVendor + "=" + value.String()}}, has: map[string]string{keyNoVendor: value.String()}},
		{suite: tc, test: "test_tracestate_all_allowed_characters/vendor", headers: [][2]string{{"traceparent", tp00}, {"tracestate", keyVendor + "=" + value.String()}}, has: map[string]string{keyVendor: value.String()}},
		{suite: tc, test: "test_tracestate_ows_handling/spaces and tabs", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1 \t , \t bar=2, \t baz=3"}}, has: map[string]string{"foo": "1", "bar": "2", "baz": "3"}},
		{suite: tc, test: "test_tracestate_ows_handling/tabs and spaces", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1\t \t,\t \tbar=2,\t \tbaz=3"}}, has: map[string]string{"foo": "1", "bar": "2", "baz": "3"}},
		{suite: tc, test: "test_tracestate_ows_handling/leading space", headers: [][2]string{{"traceparent", tp00}, {"tracestate", " foo=1"}}, sameTrace: true, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_ows_handling/leading tab", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "\tfoo=1"}}, sameTrace: true, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_ows_handling/trailing space", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1 "}}, sameTrace: true, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_ows_handling/trailing tab", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1\t"}}, sameTrace: true, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_ows_handling/both", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "\t foo=1 \t"}}, sameTrace: true, has: map[string]string{"foo": "1"}},
		{suite: tc, test: "test_tracestate_key_illegal_characters/space", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo =1"}}, absent: []string{"foo "}},
		{suite: tc, test: "test_tracestate_key_illegal_characters/upper case", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "FOO=1"}}, absent: []string{"FOO"}},
		{suite: tc, test: "test_tracestate_key_illegal_characters/dot", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo.bar=1"}}, absent: []string{"foo.bar"}},
		{suite: tc, test: "test_tracestate_key_illegal_vendor_format/trailing at", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo@=1,bar=2"}}, has: map[string]string{"foo@": "1", "bar": "2"}},
		{suite: tc, test: "test_tracestate_key_illegal_vendor_format/leading at", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "@foo=1,bar=2"}}, absent: []string{"bar"}},
		{suite: tc, test: "test_tracestate_key_illegal_vendor_format/double at", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo@@bar=1,bar=2"}}, has: map[string]string{"foo@@bar": "1", "bar": "2"}},
		{suite: tc, test: "test_tracestate_key_illegal_vendor_format/two ats", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo@bar@baz=1,bar=2"}}, has: map[string]string{"foo@bar@baz": "1", "bar": "2"}},
		{suite: tc, test: "test_tracestate_member_count_limit/32", headers: [][2]string{
			{"traceparent", tp00}, {"tracestate", members(1, 10)}, {"tracestate", members(11, 20)}, {"tracestate", members(21, 30)}, {"tracestate", members(31, 32)},
		}, has: map[string]string{"bar01": "01"}, members: 32},
		{suite: tc, test: "test_tracestate_member_count_limit/33", headers: [][2]string{
			{"traceparent", tp00}, {"tracestate", members(1, 10)}, {"tracestate", members(11, 20)}, {"tracestate", members(21, 30)}, {"tracestate", members(31, 33)},
		}, absent: []string{"bar01"}},
		{suite: tc, test: "test_tracestate_key_length_limit/256", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", z(256, "z") + "=1"}}, has: map[string]string{"foo": "1", z(256, "z"): "1"}},
		{suite: tc, test: "test_tracestate_key_length_limit/257", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", z(257, "z") + "=1"}}, absent: []string{"foo"}},
		{suite: tc, test: "test_tracestate_key_length_limit/241@14", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", z(241, "t") + "@" + z(14, "v") + "=1"}}, has: map[string]string{"foo": "1", z(241, "t") + "@" + z(14, "v"): "1"}},
		{suite: tc, test: "test_tracestate_key_length_limit/242@1", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", z(242, "t") + "@v=1"}}, has: map[string]string{"foo": "1", z(242, "t") + "@v": "1"}},
		{suite: tc, test: "test_tracestate_key_length_limit/1@15", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=1"}, {"tracestate", "t@" + z(15, "v") + "=1"}}, has: map[string]string{"foo": "1", "t@" + z(15, "v"): "1"}},
		{suite: tc, test: "test_tracestate_value_illegal_characters/equals", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=bar=baz"}}, absent: []string{"foo"}},
		{suite: tc, test: "test_tracestate_value_illegal_characters/empty value", headers: [][2]string{{"traceparent", tp00}, {"tracestate", "foo=,bar=3"}}, absent: []string{"foo", "bar"}},

		{suite: "AdvancedTest", test: "test_multiple_requests_with_valid_traceparent", headers: [][2]string{{"traceparent", tp01}}, callbacks: 3, sameTrace: true},
		{suite: "AdvancedTest", test: "test_multiple_requests_without_traceparent", callbacks: 3},
		{suite: "AdvancedTest", test: "test_multiple_requests_with_illegal_traceparent", headers: [][2]string{{"traceparent", "00-" + z(32, "0") + "-" + w3cParent + "-01"}}, callbacks: 3, notTrace: []string{z(32, "0")}},

		{suite: "TraceContext2Test", test: "test_propagates_random_flag", headers: [][2]string{{"traceparent", "00-" + w3cTrace + "-" + w3cParent + "-02"}}, sameTrace: true, flagBit: 2},
	}
}

// harnessTracestate parses the callback's tracestate lines as the suite's
// harness does: members must match its grammar, a repeated key keeps the
// first value.
type harnessTracestate struct {
	keys   []string
	values map[string]string
}

var (
	harnessMember = regexp.MustCompile(`^([0-9a-z][_0-9a-z\-\*\/@]{0,255})(=)([\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e])$`)
	harnessDelim  = regexp.MustCompile("[ \t]*,[ \t]*")
	harnessTP     = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)
)

func parseHarnessTracestate(t *testing.T, lines []string) harnessTracestate {
	t.Helper()
	ts := harnessTracestate{values: map[string]string{}}
	for _, line := range lines {
		for _, m := range harnessDelim.Split(line, -1) {
			if m == "" {
				continue
			}
			g := harnessMember.FindStringSubmatch(m)
			require.NotNil(t, g, "the harness cannot parse the member %q", m)
			if _, dup := ts.values[g[1]]; !dup {
				ts.keys = append(ts.keys, g[1])
				ts.values[g[1]] = g[3]
			}
		}
	}
	return ts
}

func (ts harnessTracestate) String() string {
	var b []string
	for _, k := range ts.keys {
		b = append(b, k+"="+ts.values[k])
	}
	return strings.Join(b, ",")
}

// w3cService is the suite's test service: for each action it starts a span
// as a child of the incoming context and calls the url back with the
// span's context injected.
func w3cService(t *testing.T, tr opentracing.Tracer) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var actions []struct {
			URL string `json:"url"`
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&actions))
		var opts []opentracing.StartSpanOption
		if parent, err := tr.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(r.Header)); err == nil {
			opts = append(opts, opentracing.ChildOf(parent))
		}
		for _, a := range actions {
			span := tr.StartSpan("callback", opts...)
			req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, a.URL, strings.NewReader("[]"))
			require.NoError(t, err)
			require.NoError(t, tr.Inject(span.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(req.Header)))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			span.Finish()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestW3CSuiteCases runs the official suite's cases (SPEC_LEVEL=2,
// STRICT_LEVEL=2) against a service built on Start and the OpenTracing API,
// over real HTTP on 127.0.0.1.
func TestW3CSuiteCases(t *testing.T) {
	tracing, _ := startCapturing(t, map[string]string{}, config.WithPropagators("tracecontext", "baggage", "flowid"))
	svc := w3cService(t, tracing.Tracer())

	var mu sync.Mutex
	var got []http.Header
	harness := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Header.Clone())
	}))
	t.Cleanup(harness.Close)

	sizes := map[string]int{}
	for _, tc := range w3cCases() {
		t.Run(tc.suite+"/"+tc.test, func(t *testing.T) {
			n := max(tc.callbacks, 1)
			actions := make([]map[string]any, n)
			for i := range actions {
				actions[i] = map[string]any{"url": harness.URL, "arguments": []any{}}
			}
			body, err := json.Marshal(actions)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, svc.URL+"/test", bytes.NewReader(body))
			require.NoError(t, err)
			for _, h := range tc.headers {
				// Set the name as the harness spells it: net/http sends
				// non-canonical names unchanged.
				req.Header[h[0]] = append(req.Header[h[0]], h[1])
			}
			mu.Lock()
			got = nil
			mu.Unlock()
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode)

			mu.Lock()
			callbacks := got
			mu.Unlock()
			require.Len(t, callbacks, n, "one callback per action")
			traces, parents := map[string]bool{}, map[string]bool{}
			for _, h := range callbacks {
				tp := h.Values("traceparent")
				require.Len(t, tp, 1, "one traceparent")
				g := harnessTP.FindStringSubmatch(tp[0])
				require.NotNil(t, g, "traceparent %q", tp[0])
				traces[g[2]], parents[g[3]] = true, true
				require.NotEqual(t, w3cParent, g[3], "a new parent id")
				if tc.sameTrace {
					require.Equal(t, w3cTrace, g[2])
				}
				for _, not := range tc.notTrace {
					require.NotEqual(t, not, g[2], "a new trace")
				}
				if tc.flagBit > 0 {
					flags, err := hex.DecodeString(g[4])
					require.NoError(t, err)
					require.NotZero(t, flags[0]&(1<<(tc.flagBit-1)), "trace-flags %s bit %d", g[4], tc.flagBit)
				}

				ts := parseHarnessTracestate(t, h.Values("tracestate"))
				for k, v := range tc.has {
					require.Contains(t, ts.values, k, "tracestate %q", ts)
					require.Equal(t, v, ts.values[k])
				}
				for _, k := range tc.absent {
					require.NotContains(t, ts.values, k, "tracestate %q", ts)
				}
				if tc.members > 0 {
					require.Len(t, ts.keys, tc.members)
				}
				s, last := ts.String(), -1
				for _, sub := range tc.order {
					i := strings.Index(s, sub)
					require.Greater(t, i, last, "%q in order in %q", sub, s)
					last = i
				}
				if len(tc.oneOf) > 0 {
					found := false
					for _, sub := range tc.oneOf {
						found = found || strings.Contains(s, sub)
					}
					require.True(t, found, "one of %q in %q", tc.oneOf, s)
				}
				sizes[tc.test] = len(ts.keys)
				if tc.sameSize != "" {
					require.Equal(t, sizes[tc.sameSize], len(ts.keys))
				}
			}
			if tc.sameTrace {
				require.Len(t, traces, 1, "callbacks of one request continue its trace")
			}
			require.Len(t, parents, n, "each callback has its own parent id")
		})
	}
}
