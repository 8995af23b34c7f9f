package semconv

import (
	"testing"

	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/semconv/stability"
)

// TestStabilityTableInRegistry keeps the registry and the one mapping
// (stability.Table) in step: every key of the table is registered, as a
// tag, with the type its conversion produces.
func TestStabilityTableInRegistry(t *testing.T) {
	reg := Default()
	typeOf := func(key string) Type {
		d, ok := reg.Lookup(key)
		require.True(t, ok, "%s is in stability.Table but not in registry.yaml", key)
		require.NotZero(t, d.In&InTag, key)
		return d.Type
	}
	for _, r := range stability.Table {
		var legacy Type
		if r.Legacy != "" {
			legacy = typeOf(r.Legacy)
		}
		for i, k := range r.Stable {
			want := legacy
			switch r.Transform {
			case stability.HostPort:
				want = []Type{TypeString, TypeInt}[i]
			case stability.GRPCCodeName, stability.IntString:
				want = TypeString
			}
			if r.Legacy == "" {
				want = typeOf(k)
			}
			require.Equal(t, want, typeOf(k), "%s -> %s", r.Legacy, k)
		}
	}
	// Names OpenTelemetry instrumentation (otelsql, redisotel) sets are known.
	for _, k := range []string{"db.system.name", "db.system", "db.namespace", "db.name", "db.query.text", "db.statement",
		"db.operation.name", "db.operation", "db.collection.name", "server.address", "server.port", "network.peer.address", "error.type", "db.redis.database_index", "net.peer.name", "net.peer.port"} {
		typeOf(k)
	}
}

// TestHelpersFollowStability: the generated helpers follow the
// process-wide switch for rows that do not depend on span kind.
func TestHelpersFollowStability(t *testing.T) {
	tags := func(optIn string) map[string]any {
		o, unknown := stability.Parse(optIn)
		require.Empty(t, unknown)
		defer stability.SetDefault(o)()
		sp := mocktracer.New().StartSpan("q", DBType.Tag("postgresql")).(*mocktracer.MockSpan)
		DBInstance.Set(sp, "orders")
		DBStatement.Set(sp, "SELECT 1")
		DBUser.Set(sp, "app")
		HTTPStatusCode.Set(sp, 200)
		HTTPURL.Set(sp, "/x") // depends on span kind: literal
		return sp.Tags()
	}
	require.Equal(t, map[string]any{"db.type": "postgresql", "db.instance": "orders", "db.statement": "SELECT 1", "db.user": "app",
		"http.status_code": 200, "http.url": "/x"}, tags(""))
	require.Equal(t, map[string]any{"db.system.name": "postgresql", "db.namespace": "orders", "db.query.text": "SELECT 1",
		"http.status_code": 200, "http.url": "/x"}, tags("database"))
	require.Equal(t, map[string]any{"db.type": "postgresql", "db.instance": "orders", "db.statement": "SELECT 1", "db.user": "app",
		"db.namespace": "orders", "db.query.text": "SELECT 1", "http.status_code": 200, "http.url": "/x"}, tags("database/dup"),
		"a start option holds one tag: with /dup DBType.Tag stays legacy")
	require.Equal(t, map[string]any{"db.type": "postgresql", "db.instance": "orders", "db.statement": "SELECT 1", "db.user": "app",
		"http.response.status_code": 200, "http.url": "/x"}, tags("http"))
}
