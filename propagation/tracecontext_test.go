package propagation

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	tpValid   = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tpTraceID = "0af7651916cd43dd8448eb211c80319c"
	tpSpanID  = "b7ad6b7169203331"
)

func mustTraceID(t testing.TB, s string) TraceID {
	var id TraceID
	require.True(t, decodeHex(id[:], s, &hexValLower), s)
	return id
}

func mustSpanID(t testing.TB, s string) SpanID {
	var id SpanID
	require.True(t, decodeHex(id[:], s, &hexValLower), s)
	return id
}

func TestParseTraceparentValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		flags    byte
	}{
		{"version 00 sampled", tpValid, 0x01},
		{"not sampled", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", 0x00},
		{"random flag kept", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02", 0x02},
		{"sampled and random", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", 0x03},
		{"undefined flags kept", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff", 0xff},
		{"leading SP", " " + tpValid, 0x01},
		{"leading HTAB", "\t" + tpValid, 0x01},
		{"trailing OWS", tpValid + " \t", 0x01},
		{"future version", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0x01},
		{"future version cc", "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0x01},
		{"future version with extra fields", "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-will-be-like", 0x01},
		{"future version trailing dash", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-", 0x01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, ok := ParseTraceparent(tt.in)
			require.True(t, ok)
			require.Equal(t, tpTraceID, sc.TraceID.String())
			require.Equal(t, tpSpanID, sc.SpanID.String())
			require.Equal(t, tt.flags, sc.Flags)
		})
	}
}

// invalidTraceparents covers the traceparent cases of HOSTILE_INPUTS.md.
var invalidTraceparents = []struct{ name, in string }{
	{"empty", ""},
	{"too short", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0"},
	{"too long v00", tpValid + "0"},
	{"trailing dash v00", tpValid + "-"},
	{"extra fields v00", tpValid + "-extra"},
	{"short trace id", "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-0101"},
	{"upper-case trace id", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"},
	{"upper-case span id", "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01"},
	{"upper-case flags", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A"},
	{"upper-case version", "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	{"zero trace id", "00-00000000000000000000000000000000-b7ad6b7169203331-01"},
	{"zero span id", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"},
	{"version ff", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	{"future version, extra field without dash", "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.what-the-future"},
	{"future version, short", "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"},
	{"future version, zero trace id", "cc-00000000000000000000000000000000-b7ad6b7169203331-01-x"},
	{"non-hex trace id", "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01"},
	{"non-hex span id", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333z-01"},
	{"non-hex flags", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x"},
	{"non-hex version", "0x-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	{"inner whitespace", "00-0af7651916cd43dd8448eb211c80319c -b7ad6b7169203331-01"},
	{"space instead of dash", "00 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331 01"},
	{"wrong separator", "00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01"},
	{"NUL", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0\x00"},
	{"CR LF", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"},
	{"DEL", "\x7f00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
	{"invalid UTF-8", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-\xff\xfe"},
	{"1 MiB", strings.Repeat("0", 1<<20)},
	{"1 MiB v00 prefix", tpValid + strings.Repeat("-", 1<<20)},
	{"two values comma joined", tpValid + "," + tpValid},
}

func TestParseTraceparentInvalid(t *testing.T) {
	t.Parallel()
	for _, tt := range invalidTraceparents {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := ParseTraceparent(tt.in)
			require.False(t, ok)
			// Through the propagator: no context, and the state is unchanged.
			s := TraceContext{}.Extract(HeaderCarrier{"Traceparent": {tt.in}, "Tracestate": {"a=b"}}, State{})
			require.False(t, s.SpanContext.IsValid())
			require.Equal(t, SpanContext{}, s.SpanContext)
		})
	}
}

func TestTraceContextFieldLines(t *testing.T) {
	t.Parallel()
	other := "00-11111111111111111111111111111111-2222222222222222-01"
	tests := []struct {
		name  string
		lines []string
		valid bool
	}{
		{"one line", []string{tpValid}, true},
		{"same header twice", []string{tpValid, tpValid}, false},
		{"two different", []string{tpValid, other}, false},
		{"valid and invalid", []string{tpValid, "garbage"}, false},
		{"invalid and valid", []string{"garbage", tpValid}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.lines {
				h.Add("traceparent", l)
			}
			s := TraceContext{}.Extract(HeaderCarrier(h), State{})
			require.Equal(t, tt.valid, s.SpanContext.IsValid())
		})
	}
}

func TestTraceContextExtractKeepsValidContext(t *testing.T) {
	t.Parallel()
	first := SpanContext{TraceID: TraceID{1}, SpanID: SpanID{2}, Flags: 1}
	s := TraceContext{}.Extract(HeaderCarrier{"Traceparent": {tpValid}}, State{SpanContext: first})
	require.Equal(t, first, s.SpanContext)
}

func TestTraceContextRoundTrip(t *testing.T) {
	t.Parallel()
	for _, flags := range []byte{0, 1, 2, 3} {
		sc := SpanContext{
			TraceID:    mustTraceID(t, tpTraceID),
			SpanID:     mustSpanID(t, tpSpanID),
			Flags:      flags,
			TraceState: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
		}
		for _, c := range []Carrier{HeaderCarrier{}, MapCarrier{}} {
			TraceContext{}.Inject(State{SpanContext: sc}, c)
			got := TraceContext{}.Extract(c, State{})
			require.Equal(t, sc, got.SpanContext)
		}
	}
}

func TestTraceContextInjectLowerCase(t *testing.T) {
	t.Parallel()
	c := MapCarrier{}
	TraceContext{}.Inject(State{SpanContext: SpanContext{
		TraceID: mustTraceID(t, "abcdef0123456789abcdef0123456789"), SpanID: mustSpanID(t, "abcdef0123456789"), Flags: 0x0b,
	}}, c)
	require.Equal(t, "00-abcdef0123456789abcdef0123456789-abcdef0123456789-0b", c["traceparent"])
	require.NotContains(t, c, "tracestate")
}

func TestTraceContextInjectInvalid(t *testing.T) {
	t.Parallel()
	c := MapCarrier{}
	TraceContext{}.Inject(State{SpanContext: SpanContext{TraceID: TraceID{1}}}, c)
	require.Empty(t, c)
	// An invalid tracestate set by hand is not sent.
	TraceContext{}.Inject(State{SpanContext: SpanContext{TraceID: TraceID{1}, SpanID: SpanID{1}, TraceState: "a=b\r\nx: y"}}, c)
	require.Contains(t, c, "traceparent")
	require.NotContains(t, c, "tracestate")
}

func TestTraceStateExtract(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	members := func(n int) string {
		var ms []string
		for i := range n {
			ms = append(ms, "k"+strings.Repeat("x", i)+"=v")
		}
		return strings.Join(ms, ",")
	}
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"single", []string{"rojo=00f067aa0ba902b7"}, "rojo=00f067aa0ba902b7"},
		{"two lines joined", []string{"rojo=1", "congo=2"}, "rojo=1,congo=2"},
		{"OWS trimmed", []string{" rojo=1 ,\tcongo=2\t"}, "rojo=1,congo=2"},
		{"empty members skipped", []string{"rojo=1,,  ,congo=2,"}, "rojo=1,congo=2"},
		{"empty line", []string{""}, ""},
		{"empty line among others", []string{"rojo=1", "", "congo=2"}, "rojo=1,congo=2"},
		{"vendor key", []string{"fw529a3039@dt=1,t61rcwkgmze@congo=2"}, "fw529a3039@dt=1,t61rcwkgmze@congo=2"},
		{"vendor key digit tenant", []string{"1tenant@sys=1"}, "1tenant@sys=1"},
		{"key chars", []string{"a_b-c*d/e=1"}, "a_b-c*d/e=1"},
		{"value with space inside", []string{"a=b c"}, "a=b c"},
		{"value chars", []string{"a=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~"}, "a=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~"},
		{"32 members", []string{members(32)}, members(32)},
		{"max key 256", []string{"a" + long(255) + "=1"}, "a" + long(255) + "=1"},
		{"max value 256", []string{"a=" + long(256)}, "a=" + long(256)},
		{"max tenant 241 system 14", []string{long(241) + "@" + long(14) + "=1"}, long(241) + "@" + long(14) + "=1"},
		// Level 2 keys (issue 14 item 8): "@" is an ordinary key character,
		// with no tenant/system split; a key may start with a digit.
		{"key starts with digit", []string{"1rojo=1"}, "1rojo=1"},
		{"242 t then @v", []string{strings.Repeat("t", 242) + "@v=1"}, strings.Repeat("t", 242) + "@v=1"},
		{"t@ then 15 v", []string{"t@" + strings.Repeat("v", 15) + "=1"}, "t@" + strings.Repeat("v", 15) + "=1"},
		{"trailing @", []string{"foo@=1,bar=2"}, "foo@=1,bar=2"},
		{"double @", []string{"foo@@bar=1,bar=2"}, "foo@@bar=1,bar=2"},
		{"two @", []string{"foo@bar@baz=1"}, "foo@bar@baz=1"},
		{"system starts with digit", []string{"t@1a=1"}, "t@1a=1"},
		{"max key 256 with @", []string{"a" + long(254) + "@=1"}, "a" + long(254) + "@=1"},
		// Duplicated keys: the first member is kept, repeats are dropped,
		// the rest of the list is kept.
		{"duplicate key", []string{"rojo=1,congo=2,rojo=3"}, "rojo=1,congo=2"},
		{"duplicate key across lines", []string{"rojo=1", "rojo=1"}, "rojo=1"},
		{"duplicate key other value across lines", []string{"foo=1", "foo=2"}, "foo=1"},
		{"duplicate vendor key", []string{"t@v=1,t@v=2"}, "t@v=1"},
		{"repeats do not count towards 32", []string{members(32), "kx=w,kxx=w"}, members(32)},
		// Invalid: the whole tracestate is dropped.
		{"33 members", []string{members(33)}, ""},
		{"33 members over two lines", []string{members(20), strings.ReplaceAll(members(13), "k", "z")}, ""},
		{"upper-case key", []string{"Rojo=1"}, ""},
		{"key 257", []string{"a" + long(256) + "=1"}, ""},
		{"key 257 with @", []string{"a" + long(254) + "@@=1"}, ""},
		{"key starts with @", []string{"@foo=1,bar=2"}, ""},
		{"key starts with _", []string{"_foo=1"}, ""},
		{"33 distinct members with a repeat", []string{members(33), "kx=w"}, ""},
		{"key with bad char", []string{"ro.jo=1"}, ""},
		{"no equals", []string{"rojo"}, ""},
		{"empty value", []string{"rojo="}, ""},
		{"value 257", []string{"a=" + long(257)}, ""},
		{"value with equals", []string{"a=b=c"}, ""},
		{"value trailing space inside member", []string{"a=b \x01"}, ""},
		{"value NUL", []string{"a=b\x00"}, ""},
		{"value CR LF", []string{"a=b\r\nc=d"}, ""},
		{"value DEL", []string{"a=b\x7f"}, ""},
		{"value invalid UTF-8", []string{"a=\xff"}, ""},
		{"1 MiB", []string{"a=" + strings.Repeat("b", 1<<20)}, ""},
		{"1 MiB of commas", []string{strings.Repeat(",", 1<<20)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Traceparent": {tpValid}}
			for _, l := range tt.lines {
				h.Add("tracestate", l)
			}
			s := TraceContext{}.Extract(HeaderCarrier(h), State{})
			require.True(t, s.SpanContext.IsValid(), "traceparent is kept")
			require.Equal(t, tt.want, s.SpanContext.TraceState)
			if tt.want != "" {
				ts, err := ParseTraceState(strings.Join(tt.lines, ","))
				require.NoError(t, err)
				require.Equal(t, tt.want, ts)
			}
		})
	}
}

func TestTraceStateIgnoredWithoutTraceparent(t *testing.T) {
	t.Parallel()
	s := TraceContext{}.Extract(MapCarrier{"tracestate": "a=b"}, State{})
	require.Equal(t, SpanContext{}, s.SpanContext)
}

func TestTruncateTraceState(t *testing.T) {
	t.Parallel()
	member := func(k string, n int) string { return k + "=" + strings.Repeat("v", n-len(k)-1) }
	// 10 members of 60 chars: 609 chars; the last two go.
	var ms []string
	for i := range 10 {
		ms = append(ms, member(string(rune('a'+i)), 60))
	}
	got := TruncateTraceState(strings.Join(ms, ","))
	require.Equal(t, strings.Join(ms[:8], ","), got)
	require.LessOrEqual(t, len(got), 512)

	// Long members go first even when they are not at the end.
	ms = []string{member("a", 60), member("big", 200), member("b", 60), member("huge", 250), member("c", 60)}
	got = TruncateTraceState(strings.Join(ms, ","))
	require.Equal(t, strings.Join([]string{ms[0], ms[1], ms[2], ms[4]}, ","), got)

	ms = []string{member("a", 60), member("big", 300), member("huge", 300)}
	got = TruncateTraceState(strings.Join(ms, ","))
	require.Equal(t, ms[0]+","+ms[1], got, "only as many long members go as needed")

	ms = []string{member("a", 200), member("b", 200), member("c", 200), member("d", 100)}
	got = TruncateTraceState(strings.Join(ms, ","))
	require.Equal(t, ms[0]+","+ms[1]+","+ms[3], got)

	short := "a=1,b=2"
	require.Equal(t, short, TruncateTraceState(short))

	// Through Inject.
	var all []string
	for i := range 32 {
		all = append(all, member("k"+strings.Repeat("x", i), 100))
	}
	c := MapCarrier{}
	TraceContext{}.Inject(State{SpanContext: SpanContext{TraceID: TraceID{1}, SpanID: SpanID{1}, TraceState: strings.Join(all, ",")}}, c)
	require.LessOrEqual(t, len(c["tracestate"]), 512)
	require.Equal(t, strings.Join(all[:5], ","), c["tracestate"])
}

func TestTraceStateWith(t *testing.T) {
	t.Parallel()
	ts, err := TraceStateWith("", "flowtrace", "abc")
	require.NoError(t, err)
	require.Equal(t, "flowtrace=abc", ts)

	ts, err = TraceStateWith("rojo=1,flowtrace=old,congo=2", "flowtrace", "new")
	require.NoError(t, err)
	require.Equal(t, "flowtrace=new,rojo=1,congo=2", ts)

	v, ok := TraceStateGet(ts, "congo")
	require.True(t, ok)
	require.Equal(t, "2", v)
	_, ok = TraceStateGet(ts, "nope")
	require.False(t, ok)

	ts, err = TraceStateWithout(ts, "rojo")
	require.NoError(t, err)
	require.Equal(t, "flowtrace=new,congo=2", ts)

	var ms []string
	for i := range 32 {
		ms = append(ms, "k"+strings.Repeat("x", i)+"=v")
	}
	ts, err = TraceStateWith(strings.Join(ms, ","), "me", "1")
	require.NoError(t, err)
	require.Equal(t, "me=1,"+strings.Join(ms[:31], ","), ts)

	_, err = TraceStateWith("", "Bad", "1")
	require.ErrorIs(t, err, ErrTraceStateKey)
	_, err = TraceStateWith("", "ok", "a,b")
	require.ErrorIs(t, err, ErrTraceStateValue)
	_, err = TraceStateWith("A=1,a=2", "ok", "1")
	require.ErrorIs(t, err, ErrTraceState)
	ts, err = TraceStateWith("a=1,b=2,a=3", "ok", "1")
	require.NoError(t, err, "a repeated key is dropped, not an error")
	require.Equal(t, "ok=1,a=1,b=2", ts)
}

func TestTraceContextExtractAllocs(t *testing.T) {
	h := HeaderCarrier{"Traceparent": {tpValid}, "Tracestate": {"rojo=00f067aa0ba902b7"}}
	allocs := testing.AllocsPerRun(100, func() {
		_ = TraceContext{}.Extract(h, State{})
	})
	require.Zero(t, allocs)
	m := MapCarrier{"traceparent": tpValid}
	allocs = testing.AllocsPerRun(100, func() {
		_ = TraceContext{}.Extract(m, State{})
	})
	require.Zero(t, allocs)
}
