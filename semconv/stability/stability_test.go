package stability

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/sdklog"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // OptIn.String()
		unknown []string
	}{
		{"", "", nil},
		{"http", "http", nil},
		{"http/dup", "http/dup", nil},
		{"http,http/dup", "http/dup", nil},
		{"http/dup,http", "http/dup", nil},
		{" database , rpc/dup,,messaging ", "database,rpc/dup,messaging", nil},
		{"database/dup,http", "http,database/dup", nil},
		{"HTTP,k8s,http/dupe,gen_ai_latest_experimental", "", []string{"HTTP", "k8s", "http/dupe", "gen_ai_latest_experimental"}},
		{"http,\x1b[31mred\n", "http", []string{"?[31mred"}},
		{strings.Repeat("x", 100), "", []string{strings.Repeat("x", 64)}},
		{strings.Repeat("http,", 40), "http", []string{"(tokens past the 32nd)"}},
		{"database," + strings.Repeat(" ", 2000) + "http", "database", []string{"(value cut at 1024 bytes)"}},
	} {
		o, unknown := Parse(tc.in)
		require.Equal(t, tc.want, o.String(), "%q", tc.in)
		require.Equal(t, tc.unknown, unknown, "%q", tc.in)
	}
	var zero OptIn
	require.True(t, zero.IsDefault())
	require.Equal(t, Legacy, zero.For(HTTP))
	o, _ := Parse("http/dup,database")
	require.Equal(t, Both, o.For(HTTP))
	require.Equal(t, Stable, o.For(Database))
	require.Equal(t, Legacy, o.For(RPC))
	require.False(t, o.IsDefault())
}

// TestFromEnvWarnsOnce: an unknown token is reported once per process,
// escaped, naming the known values; the known tokens still apply.
func TestFromEnvWarnsOnce(t *testing.T) {
	var buf bytes.Buffer
	l := sdklog.NewSlog(&buf, sdklog.DefaultLevel)
	warnMu.Lock()
	clear(warned)
	warnMu.Unlock()
	lastParsed.Store(nil)

	t.Setenv(EnvOptIn, "http/dup,bogus\n2026 FORGED")
	for range 3 {
		require.Equal(t, Both, FromEnvTo(l).For(HTTP))
	}
	out := buf.String()
	require.Equal(t, 1, strings.Count(out, "\n"), out)
	require.Contains(t, out, `OTEL_SEMCONV_STABILITY_OPT_IN: ignoring unknown value "bogus?2026 FORGED"`)
	require.Contains(t, out, "http/dup, database, database/dup")

	// Distinct tokens remembered are bounded.
	for i := range 100 {
		warnUnknown(l, []string{strings.Repeat("y", i+1)})
	}
	require.LessOrEqual(t, len(warned), maxWarned)
}

func TestDefault(t *testing.T) {
	o, _ := Parse("database")
	restore := SetDefault(o)
	require.Equal(t, Stable, Default().For(Database))
	restore()
	require.NotEqual(t, o, Default())
}

func TestEmitter(t *testing.T) {
	tags := func(o OptIn, c Category, k Kind, set func(Emitter, *mocktracer.MockSpan)) map[string]any {
		sp := mocktracer.New().StartSpan("x").(*mocktracer.MockSpan)
		set(o.Emitter(c, k), sp)
		return sp.Tags()
	}
	legacy := OptIn{}
	stable, _ := Parse("http,database,rpc,messaging")
	dup, _ := Parse("http/dup,database/dup,rpc/dup,messaging/dup")

	peer := func(e Emitter, sp *mocktracer.MockSpan) { e.Set(sp, "peer.address", "10.1.2.3:5432") }
	require.Equal(t, map[string]any{"peer.address": "10.1.2.3:5432"}, tags(legacy, HTTP, Server, peer))
	require.Equal(t, map[string]any{"network.peer.address": "10.1.2.3", "network.peer.port": 5432}, tags(stable, HTTP, Server, peer))
	require.Equal(t, map[string]any{"peer.address": "10.1.2.3:5432", "network.peer.address": "10.1.2.3", "network.peer.port": 5432}, tags(dup, HTTP, Server, peer))
	target := func(e Emitter, sp *mocktracer.MockSpan) { e.Set(sp, "peer.address", "dns:///cart.internal:443") }
	require.Equal(t, map[string]any{"server.address": "cart.internal", "server.port": 443}, tags(stable, HTTP, Client, target))
	require.Equal(t, map[string]any{"peer.address": "dns:///cart.internal:443"}, tags(stable, RPC, Client, target), "network names follow the http switch")
	sock := func(e Emitter, sp *mocktracer.MockSpan) { e.Set(sp, "peer.address", "/run/app.sock") }
	require.Equal(t, map[string]any{"network.peer.address": "/run/app.sock"}, tags(stable, HTTP, Server, sock))

	url := func(e Emitter, sp *mocktracer.MockSpan) { e.Set(sp, "http.url", "/a/b") }
	require.Equal(t, map[string]any{"url.path": "/a/b"}, tags(stable, HTTP, Server, url))
	require.Equal(t, map[string]any{"url.full": "/a/b"}, tags(stable, HTTP, Client, url))

	rpc := func(e Emitter, sp *mocktracer.MockSpan) {
		e.Set(sp, "rpc.service", "shop.Cart")
		e.Set(sp, "rpc.method", "shop.Cart/Add")
		e.Set(sp, "rpc.grpc.status_code", 4)
	}
	require.Equal(t, map[string]any{"rpc.method": "shop.Cart/Add", "rpc.response.status_code": "DEADLINE_EXCEEDED"}, tags(stable, RPC, Client, rpc))
	require.Equal(t, map[string]any{"rpc.service": "shop.Cart", "rpc.method": "shop.Cart/Add", "rpc.grpc.status_code": 4, "rpc.response.status_code": "DEADLINE_EXCEEDED"}, tags(dup, RPC, Client, rpc))

	msg := func(e Emitter, sp *mocktracer.MockSpan) {
		e.Set(sp, "messaging.operation", "publish")
		e.Set(sp, "messaging.kafka.partition", 3)
		e.Set(sp, "messaging.system", "kafka")
	}
	require.Equal(t, map[string]any{"messaging.operation.type": "send", "messaging.destination.partition.id": "3", "messaging.system": "kafka"}, tags(stable, Messaging, Producer, msg))

	db := func(e Emitter, sp *mocktracer.MockSpan) {
		e.Set(sp, "db.type", "postgresql")
		e.Set(sp, "db.user", "app")
		e.SetStable(sp, "url.query", "q=REDACTED")
	}
	require.Equal(t, map[string]any{"db.type": "postgresql", "db.user": "app"}, tags(legacy, Database, Client, db))
	require.Equal(t, map[string]any{"db.system.name": "postgresql", "url.query": "q=REDACTED"}, tags(stable, Database, Client, db))
}

func TestAliases(t *testing.T) {
	keys := func(as []Alias) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Key)
		}
		return out
	}
	require.Equal(t, []string{"http.request.method"}, keys(Aliases("http.method", Server)))
	require.Equal(t, []string{"http.method"}, keys(Aliases("http.request.method", Client)))
	require.Equal(t, []string{"url.full"}, keys(Aliases("http.url", Client)))
	require.Equal(t, []string{"url.path"}, keys(Aliases("http.url", Server)))
	require.ElementsMatch(t, []string{"db.type", "db.system"}, keys(Aliases("db.system.name", Client)))
	require.ElementsMatch(t, []string{"db.instance", "db.name"}, keys(Aliases("db.namespace", AnyKind)))
	require.Equal(t, []string{"rpc.system"}, keys(Aliases("rpc.system.name", Server)))
	require.ElementsMatch(t, []string{"peer.hostname", "peer.address"}, keys(Aliases("server.address", Client)))

	// A host:port and its address + port are compared in the wanted form.
	legacy := map[string]any{"peer.address": "cart:9090"}
	stable := map[string]any{"server.address": "cart", "server.port": int64(9090)}
	get := func(key string, attrs map[string]any) any {
		for _, a := range Aliases(key, Client) {
			if v, ok := a.From(attrs); ok {
				return v
			}
		}
		return nil
	}
	require.Equal(t, "cart", get("server.address", legacy))
	require.Equal(t, "cart:9090", get("peer.address", stable))
	require.Equal(t, "cart", get("peer.address", map[string]any{"server.address": "cart"}), "no port: the host")
	require.Nil(t, Aliases("rpc.method", Server), "same key, different value: no alias")
	require.Nil(t, Aliases("rpc.grpc.status_code", Server), "a converted value is no alias")
	require.Nil(t, Aliases("http.route", Server))
}

// TestTableKeys: every row names a category, stable keys are distinct from
// one another, and a HostPort row has an address and a port key.
func TestTableKeys(t *testing.T) {
	for i := range Table {
		r := &Table[i]
		require.Less(t, r.Category, numCategories)
		require.True(t, r.Legacy != "" || len(r.Stable) > 0)
		if r.Transform == HostPort {
			require.Len(t, r.Stable, 2, r.Legacy)
			require.True(t, strings.HasSuffix(r.Stable[1], ".port"), r.Legacy)
		}
		if r.Legacy != "" {
			require.Same(t, r, Lookup(r.Category, r.Kind, r.Legacy), r.Legacy) // rows are unique
		}
	}
}

// FuzzParse: any value parses without panic into known categories; the
// unknown tokens it reports are bounded, printable and few.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "http", "http/dup,database", " rpc/dup , messaging ", "x,\x00,\xff", strings.Repeat("http/dup,", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, unknown := Parse(s)
		_ = o.String()
		again, _ := Parse(o.String())
		if again != o {
			t.Fatalf("String %q does not parse back to %v", o.String(), o)
		}
		if len(unknown) > MaxOptInTokens+2 {
			t.Fatalf("%d unknown tokens", len(unknown))
		}
		for _, u := range unknown {
			if len(u) > maxTokenReport || !utf8.ValidString(u) {
				t.Fatalf("unknown token %q not bounded or not valid", u)
			}
			for _, c := range []byte(u) {
				if c < 0x20 || c >= 0x7f {
					t.Fatalf("unknown token %q has byte %#x", u, c)
				}
			}
		}
	})
}
