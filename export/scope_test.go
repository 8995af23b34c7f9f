package export

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/tracer"
)

func scoped(i int, name, version string) *tracer.SpanData {
	s := mkSpan(i)
	s.Scope = tracer.Scope{Name: name, Version: version}
	return s
}

// Spans of OpenTelemetry tracers carry their instrumentation scope: the
// batch has one ScopeSpans per scope name and version, in the order each
// scope first appears; spans without a scope are the exporter's scope.
func TestToOTLPGroupsByScope(t *testing.T) {
	spans := []*tracer.SpanData{
		scoped(0, "", ""),
		scoped(1, "github.com/XSAM/otelsql", "0.44.0"),
		scoped(2, "", ""),
		nil,
		scoped(3, "github.com/redis/go-redis/extra/redisotel", "9.23.0"),
		scoped(4, "github.com/XSAM/otelsql", "0.44.0"),
		scoped(5, "github.com/XSAM/otelsql", "0.43.0"),
		scoped(6, "flowtrace", "1"), // the default scope, given explicitly
	}
	rs := ToOTLP(testRes, "flowtrace", "1", spans)
	require.Len(t, rs, 1)
	type group struct {
		name, version string
		spans         []string
	}
	var got []group
	for _, ss := range rs[0].ScopeSpans {
		g := group{name: ss.Scope.Name, version: ss.Scope.Version}
		for _, s := range ss.Spans {
			g.spans = append(g.spans, s.Name)
		}
		got = append(got, g)
	}
	require.Equal(t, []group{
		{"flowtrace", "1", []string{"op-0", "op-2", "op-6"}},
		{"github.com/XSAM/otelsql", "0.44.0", []string{"op-1", "op-4"}},
		{"github.com/redis/go-redis/extra/redisotel", "9.23.0", []string{"op-3"}},
		{"github.com/XSAM/otelsql", "0.43.0", []string{"op-5"}},
	}, got)

	// A reused Converter gives the same batch, and then a one-scope batch
	// again (no ScopeSpans left over from the previous one).
	var c Converter
	for range 2 {
		require.True(t, proto.Equal(rs[0], c.Convert(testRes, "flowtrace", "1", spans)[0]))
		one := c.Convert(testRes, "flowtrace", "1", []*tracer.SpanData{mkSpan(9)})
		require.Len(t, one[0].ScopeSpans, 1)
		require.Equal(t, "flowtrace", one[0].ScopeSpans[0].Scope.Name)
	}
}

// A steady stream of batches with several scopes allocates next to
// nothing, as a one-scope stream does.
func TestConverterScopesAllocs(t *testing.T) {
	spans := make([]*tracer.SpanData, 64)
	for i := range spans {
		spans[i] = scoped(i, []string{"", "a", "b"}[i%3], "1")
	}
	var c Converter
	c.Convert(testRes, "s", "v", spans)
	require.Zero(t, testing.AllocsPerRun(20, func() { c.Convert(testRes, "s", "v", spans) }))
}

// The OTLP exporter keeps every span's scope when it cuts a batch into
// requests under its request limit (HTTP) and when a collector refuses a
// request as too large (gRPC). (The 413 answer is left out here: net/http
// keeps a closing connection's goroutine for 500 ms, which goleak sees
// when this test runs alone.)
func TestOTLPExporterKeepsScopesAcrossRequests(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		opts     []ExporterOption
		refused  bool
	}{
		{protocol: ProtocolGRPC, refused: true},
		{protocol: ProtocolHTTPProtobuf, opts: []ExporterOption{WithMaxRequestBytes(256 << 10)}},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			s := &sink{}
			g, h := startSink(t, s, grpc.MaxRecvMsgSize(256<<10))
			endpoint := g
			if tc.protocol != ProtocolGRPC {
				endpoint = h
			}
			scopes := []string{"", "lib/a", "lib/a", "lib/b"}
			spans := make([]*tracer.SpanData, 300)
			for i := range spans {
				spans[i] = bigTags(i) // ~8.4 KB each: 2.5 MB in all
				spans[i].Scope.Name = scopes[i%len(scopes)]
			}
			st, logs := runBatcher(t, OTLPSettings{Protocol: tc.protocol, Endpoint: endpoint}, spans, tc.opts...)
			require.Equal(t, int64(300), st.Exported, "%+v", st)
			if tc.refused {
				require.Contains(t, strings.Join(logs.Lines(), "\n"), "refused a request of")
			}
			_, requests := s.received()
			require.GreaterOrEqual(t, len(requests), 10, "cut into requests of at most 256 KiB")
			got := s.scopesByName()
			require.Len(t, got, 300)
			for i := range spans {
				want := scopes[i%len(scopes)]
				if want == "" {
					want = DefaultScopeName
				}
				require.Equal(t, want, got[spans[i].Name], spans[i].Name)
			}
		})
	}
}

func (s *sink) scopesByName() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.scopeOf))
	for k, v := range s.scopeOf {
		out[k] = v
	}
	return out
}
