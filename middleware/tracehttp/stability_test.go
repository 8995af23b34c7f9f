package tracehttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
	"github.com/flowtrace/flowtrace/tracer"
)

// tagSet returns a span's tags, with the values that change from run to
// run (ports, flow id, host:port) replaced by placeholders.
func tagSet(s *tracer.SpanData, srvPort, cliPort string) map[string]any {
	out := map[string]any{}
	for _, a := range s.Attributes {
		v := a.Value
		switch x := v.(type) {
		case string:
			x = strings.ReplaceAll(x, ":"+srvPort, ":SRV")
			x = strings.ReplaceAll(x, ":"+cliPort, ":CLI")
			v = x
		case int:
			switch strconv.Itoa(x) {
			case srvPort:
				v = "SRV"
			case cliPort:
				v = "CLI"
			}
		}
		if a.Key == "flow_id" {
			v = "FLOW"
		}
		out[a.Key] = v
	}
	return out
}

// TestStabilityModes: one request through the client transport and the
// server handler on 127.0.0.1, whose handler queries a database through
// the semconv helpers, in each OTEL_SEMCONV_STABILITY_OPT_IN mode; the
// exact tag set of the three spans. A strict tag policy runs on every
// span: the stable names are registered, no tag is dropped.
func TestStabilityModes(t *testing.T) {
	common := map[string]any{"component": "net/http", "flow_id": "FLOW"}
	with := func(m ...map[string]any) map[string]any {
		out := map[string]any{}
		for _, x := range m {
			for k, v := range x {
				out[k] = v
			}
		}
		return out
	}
	root := map[string]any{"sampling.probability": 1.0}
	legacyServer := map[string]any{"http.method": "GET", "http.url": "/users/7", "http.route": "/users/{id}", "http.scheme": "http",
		"http.host": "127.0.0.1:SRV", "user_agent": "probe/1.0", "peer.address": "127.0.0.1:CLI", "peer.ipv4": "127.0.0.1",
		"http.status_code": 200, "http.response_size": 6}
	stableServer := map[string]any{"http.request.method": "GET", "url.path": "/users/7", "url.query": "q=REDACTED&flag",
		"http.route": "/users/{id}", "url.scheme": "http", "server.address": "127.0.0.1", "server.port": "SRV",
		"user_agent.original": "probe/1.0", "network.peer.address": "127.0.0.1", "network.peer.port": "CLI",
		"http.response.status_code": 200, "http.response.body.size": 6}
	legacyClient := map[string]any{"http.method": "GET", "http.url": "http://127.0.0.1:SRV/users/7", "peer.hostname": "127.0.0.1",
		"peer.port": "SRV", "http.status_code": 200, "http.response_size": 6}
	stableClient := map[string]any{"http.request.method": "GET", "url.full": "http://127.0.0.1:SRV/users/7", "server.address": "127.0.0.1",
		"server.port": "SRV", "http.response.status_code": 200, "http.response.body.size": 6}
	legacyDB := map[string]any{"db.type": "postgresql", "db.instance": "orders", "db.statement": "SELECT name FROM users WHERE id = $1", "db.user": "app"}
	stableDB := map[string]any{"db.system.name": "postgresql", "db.namespace": "orders", "db.query.text": "SELECT name FROM users WHERE id = $1"}

	for _, tc := range []struct {
		optIn                  string
		server, client, dbSpan map[string]any
	}{
		// The client span is the root: the tracer adds sampling.probability.
		{"", with(common, legacyServer), with(common, root, legacyClient), with(legacyDB, map[string]any{"flow_id": "FLOW"})},
		{"http", with(common, stableServer), with(common, root, stableClient), with(legacyDB, map[string]any{"flow_id": "FLOW"})},
		{"http/dup", with(common, legacyServer, stableServer), with(common, root, legacyClient, stableClient), with(legacyDB, map[string]any{"flow_id": "FLOW"})},
		{"database", with(common, legacyServer), with(common, root, legacyClient), with(stableDB, map[string]any{"flow_id": "FLOW"})},
		{"database/dup", with(common, legacyServer), with(common, root, legacyClient), with(legacyDB, stableDB, map[string]any{"flow_id": "FLOW"})},
	} {
		t.Run("mode="+tc.optIn, func(t *testing.T) {
			t.Setenv(stability.EnvOptIn, tc.optIn)
			// The helpers follow the process-wide switch, read once per
			// process; a test changes it explicitly.
			defer stability.SetDefault(stability.FromEnv())()
			enf := semconv.NewEnforcer(nil, semconv.Strict)
			defer enf.Close()
			tr, rec := newTestTracer(tracer.WithTagPolicy(enf))
			mux := http.NewServeMux()
			mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
				db := tr.StartSpan("SELECT users", opentracing.ChildOf(opentracing.SpanFromContext(r.Context()).Context()))
				semconv.DBType.Set(db, "postgresql")
				semconv.DBInstance.Set(db, "orders")
				semconv.DBStatement.Set(db, "SELECT name FROM users WHERE id = $1")
				semconv.DBUser.Set(db, "app")
				db.Finish()
				_, _ = io.WriteString(w, "user "+r.PathValue("id"))
			})
			srv := startServer(t, tracehttp.NewHandler(mux, tracehttp.WithTracer(tr)))
			_, srvPort, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

			var cliPort string
			base := srv.Client().Transport.(*http.Transport).Clone()
			dial := (&net.Dialer{}).DialContext
			base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err == nil {
					_, cliPort, _ = net.SplitHostPort(c.LocalAddr().String())
				}
				return c, err
			}
			client := &http.Client{Transport: tracehttp.NewTransport(base, tracehttp.WithTracer(tr))}
			_, body := get(t, client, srv.URL+"/users/7?q=s3cr3t&flag", map[string]string{"User-Agent": "probe/1.0"})
			require.Equal(t, "user 7", body)

			spans := rec.wait(t, 3)
			require.Equal(t, tc.server, tagSet(byKind(t, spans, tracer.KindServer), srvPort, cliPort), "server span")
			var cl, db *tracer.SpanData
			for _, s := range spans {
				switch s.Name {
				case "SELECT users":
					db = s
				case "GET":
					cl = s
				}
			}
			require.NotNil(t, cl, names(spans))
			require.NotNil(t, db, names(spans))
			require.Equal(t, tc.client, tagSet(cl, srvPort, cliPort), "client span")
			require.Equal(t, tc.dbSpan, tagSet(db, srvPort, cliPort), "database span")
			for _, s := range spans {
				require.NotContains(t, dump(s), "s3cr3t")
			}
			require.Zero(t, enf.Stats().Total(), "the strict policy found a violation: %+v", enf.Stats())
		})
	}
}
