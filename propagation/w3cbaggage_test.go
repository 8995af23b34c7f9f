package propagation

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func tinyMembers(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "k%d=v", i)
	}
	return b.String()
}

func TestW3CBaggageExtract(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 1<<20)
	tests := []struct {
		name    string
		in      string
		want    []Member
		dropped int
	}{
		{"single", "userId=alice", []Member{{Key: "userId", Value: "alice"}}, 0},
		{"OWS", " a = 1 ,\tb=2\t", []Member{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}, 0},
		{"percent-decoded", "a=hello%20world%2C%3D%25", []Member{{Key: "a", Value: "hello world,=%"}}, 0},
		{"percent upper and lower", "a=%e2%9C%93", []Member{{Key: "a", Value: "✓"}}, 0},
		{"invalid UTF-8 replaced", "a=%FF", []Member{{Key: "a", Value: "\uFFFD"}}, 0},
		{"empty value", "a=", []Member{{Key: "a", Value: ""}}, 0},
		{"properties kept", "a=1;p1;p2=v2", []Member{{Key: "a", Value: "1", Properties: "p1;p2=v2"}}, 0},
		{"properties OWS removed", "a=1 ; p1 ; p2 = v2", []Member{{Key: "a", Value: "1", Properties: "p1;p2=v2"}}, 0},
		{"empty members skipped", "a=1,,, ,b=2", []Member{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}, 0},
		{"duplicate key: later wins", "a=1,b=2,a=3", []Member{{Key: "a", Value: "3"}, {Key: "b", Value: "2"}}, 0},
		{"token key chars", "!#$%&'*+-.^_`|~=1", []Member{{Key: "!#$%&'*+-.^_`|~", Value: "1"}}, 0},
		// Invalid members are dropped one by one.
		{"percent error truncated", "a=%4,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"percent error non-hex", "a=%zz,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"percent at end", "b=2,a=%", []Member{{Key: "b", Value: "2"}}, 1},
		{"no equals", "a,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"empty key", "=1,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"key with space", "a b=1,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"key with separator", "a/b=1,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"value with space", "a=1 2,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"value with quote", "a=\"1\",b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"value with backslash", "a=\\,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"NUL", "a=\x00,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"CR LF", "a=1\r\nx,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"DEL", "a=\x7f,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"raw invalid UTF-8", "a=\xff,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"bad property", "a=1;p=\"x\",b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"empty property", "a=1;,b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"huge single value", "a=" + huge + ",b=2", []Member{{Key: "b", Value: "2"}}, 1},
		{"1 MiB of commas", strings.Repeat(",", 1<<20) + "b=2", []Member{{Key: "b", Value: "2"}}, 0},
		{"1 MiB of invalid", strings.Repeat("x,", 1<<19) + "b=2", []Member{{Key: "b", Value: "2"}}, 1 << 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, dropped := ParseBaggage(tt.in)
			require.Equal(t, tt.want, b.Members())
			require.Equal(t, tt.dropped, dropped)

			s := W3CBaggage{}.Extract(MapCarrier{"baggage": tt.in}, State{})
			require.Equal(t, tt.want, s.Baggage.Members())
		})
	}
}

func TestW3CBaggageLimits(t *testing.T) {
	t.Parallel()
	b, dropped := ParseBaggage(tinyMembers(64))
	require.Equal(t, 64, b.Len())
	require.Zero(t, dropped)

	b, dropped = ParseBaggage(tinyMembers(1000))
	require.Equal(t, 64, b.Len(), "more than 64 members: the first 64 are kept")
	require.Equal(t, 1, dropped, "parsing stops at the limit")
	v, _ := b.Get("k63")
	require.Equal(t, "v", v)

	// 8192 bytes: two members of 5000 bytes, the second is dropped.
	big := func(k string) string { return k + "=" + strings.Repeat("v", 5000-len(k)-1) }
	b, dropped = ParseBaggage(big("a") + "," + big("b") + ",c=1")
	require.Equal(t, []string{"a", "c"}, keys(b))
	require.Equal(t, 1, dropped)

	// Exactly 8192 bytes is fine.
	exact := "a=" + strings.Repeat("v", 8190)
	b, _ = ParseBaggage(exact)
	require.Equal(t, 1, b.Len())
	b, _ = ParseBaggage(exact + "v")
	require.Equal(t, 0, b.Len())

	// Several field lines share the limits.
	h := HeaderCarrier{"Baggage": {tinyMembers(40), strings.ReplaceAll(tinyMembers(40), "k", "z")}}
	s := W3CBaggage{}.Extract(h, State{})
	require.Equal(t, 64, s.Baggage.Len())
}

func keys(b Baggage) []string {
	var out []string
	b.Each(func(m Member) bool { out = append(out, m.Key); return true })
	return out
}

func TestW3CBaggageRoundTrip(t *testing.T) {
	t.Parallel()
	in := NewBaggage(
		Member{Key: "userId", Value: "alice"},
		Member{Key: "serverNode", Value: "DF 28", Properties: "p1;p2=v"},
		Member{Key: "odd", Value: "a,b;c=d%e\r\n\x00\"\\ü"},
		Member{Key: "flow_id", Value: "abc"},
	)
	c := MapCarrier{}
	W3CBaggage{}.Inject(State{Baggage: in}, c)
	require.Equal(t, "userId=alice,serverNode=DF%2028;p1;p2=v,odd=a%2Cb%3Bc=d%25e%0D%0A%00%22%5C%C3%BC,flow_id=abc", c["baggage"])
	out := W3CBaggage{}.Extract(c, State{})
	require.Equal(t, in.Members(), out.Baggage.Members())
}

func TestW3CBaggageInjectLimits(t *testing.T) {
	t.Parallel()
	var ms []Member
	for i := range 100 {
		ms = append(ms, Member{Key: fmt.Sprintf("k%d", i), Value: "v"})
	}
	ms = append(ms[:1], append([]Member{{Key: "bad key", Value: "x"}, {Key: "big", Value: strings.Repeat("x", 9000)}}, ms[1:]...)...)
	c := MapCarrier{}
	W3CBaggage{}.Inject(State{Baggage: NewBaggage(ms...)}, c)
	b, dropped := ParseBaggage(c["baggage"])
	require.Zero(t, dropped)
	require.Equal(t, 64, b.Len())
	require.LessOrEqual(t, len(c["baggage"]), MaxBaggageBytes)
	_, ok := b.Get("big")
	require.False(t, ok)

	// Invalid properties are not sent, the member is.
	c = MapCarrier{}
	W3CBaggage{}.Inject(State{Baggage: NewBaggage(Member{Key: "a", Value: "1", Properties: "x\r\ny"})}, c)
	require.Equal(t, "a=1", c["baggage"])

	// Nothing valid: no header.
	c = MapCarrier{}
	W3CBaggage{}.Inject(State{Baggage: NewBaggage(Member{Key: "", Value: "1"})}, c)
	require.NotContains(t, c, "baggage")
}

func TestW3CBaggageMerge(t *testing.T) {
	t.Parallel()
	existing := NewBaggage(Member{Key: "a", Value: "old"}, Member{Key: "z", Value: "keep"})
	s := W3CBaggage{}.Extract(MapCarrier{"baggage": "a=new,b=2"}, State{Baggage: existing})
	require.Equal(t, []Member{{Key: "a", Value: "new"}, {Key: "b", Value: "2"}, {Key: "z", Value: "keep"}}, s.Baggage.Members())
	require.Equal(t, []Member{{Key: "a", Value: "old"}, {Key: "z", Value: "keep"}}, existing.Members(), "existing baggage unchanged")
}

func TestNewBaggageDedupe(t *testing.T) {
	t.Parallel()
	var ms []Member
	for i := range 20 {
		ms = append(ms, Member{Key: fmt.Sprintf("k%d", i%10), Value: fmt.Sprint(i)})
	}
	b := NewBaggage(ms...)
	require.Equal(t, 10, b.Len())
	v, _ := b.Get("k3")
	require.Equal(t, "13", v)
	require.Equal(t, "k0", b.Members()[0].Key)
	require.Equal(t, "0", ms[0].Value, "input not modified")
}

// The parser must be linear: 1000 tiny members cost about 1000/64 times
// 64 members at most, not (1000/64)^2.
func BenchmarkParseBaggage(b *testing.B) {
	inputs := []struct {
		name string
		in   string
	}{
		{"64 members", tinyMembers(64)},
		{"1000 members", tinyMembers(1000)},
		{"1000 duplicates", strings.Repeat("k=v,", 1000)},
		{"1000 invalid", strings.Repeat("k v,", 1000)},
		{"1MiB invalid members", strings.Repeat("k v,", 1<<18)},
		{"1MiB duplicates", strings.Repeat("k=v,", 1<<18)},
		{"1MiB value", "k=" + strings.Repeat("v", 1<<20)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.in)))
			c := MapCarrier{"baggage": in.in}
			for b.Loop() {
				_ = W3CBaggage{}.Extract(c, State{})
			}
		})
	}
}

func TestBaggageWithIn(t *testing.T) {
	b := NewBaggage(Member{Key: "a", Value: "1"})
	buf := make([]Member, 2)
	got := b.WithIn(Member{Key: "b", Value: "2"}, buf)
	require.Equal(t, []Member{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}, got.Members())
	require.Same(t, &buf[0], &got.members[0], "built in buf")
	got = b.WithIn(Member{Key: "a", Value: "3"}, buf[:0:0]) // no room: allocated
	require.Equal(t, []Member{{Key: "a", Value: "3"}}, got.Members())
	v, _ := b.Get("a")
	require.Equal(t, "1", v, "b unchanged")
}

func TestW3CBaggageExtractIntoRoom(t *testing.T) {
	room := make([]Member, 1)
	s := W3CBaggage{}.Extract(MapCarrier{"baggage": "a=1"}, State{Baggage: BaggageRoom(room)})
	require.Equal(t, []Member{{Key: "a", Value: "1"}}, s.Baggage.Members())
	require.Same(t, &room[0], &s.Baggage.members[0], "parsed into the room")

	room = make([]Member, 1)
	s = W3CBaggage{}.Extract(MapCarrier{"baggage": "a=1,b=2,a=3"}, State{Baggage: BaggageRoom(room)})
	require.Equal(t, []Member{{Key: "a", Value: "3"}, {Key: "b", Value: "2"}}, s.Baggage.Members())
	require.Equal(t, Member{}, room[0], "too small: not used")

	s = W3CBaggage{}.Extract(MapCarrier{}, State{Baggage: BaggageRoom(room)})
	require.Zero(t, s.Baggage.Len())
}
