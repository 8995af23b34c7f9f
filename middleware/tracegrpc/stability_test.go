package tracegrpc_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// TestStabilityModes: a failing unary call between a traced client and
// server on 127.0.0.1 in each OTEL_SEMCONV_STABILITY_OPT_IN mode; the exact
// tag set of both spans, under a strict tag policy that finds nothing to
// drop. rpc.* follows the rpc switch, peer.address the http switch (the
// network names), and the database switch changes nothing here.
func TestStabilityModes(t *testing.T) {
	legacyRPC := map[string]any{"rpc.system": "grpc", "rpc.service": "test.Echo", "rpc.method": "Unary", "rpc.grpc.status_code": int64(5)}
	stableRPC := map[string]any{"rpc.system.name": "grpc", "rpc.method": "test.Echo/Unary", "rpc.response.status_code": "NOT_FOUND"}
	dupRPC := map[string]any{"rpc.system": "grpc", "rpc.system.name": "grpc", "rpc.service": "test.Echo", "rpc.method": "test.Echo/Unary",
		"rpc.grpc.status_code": int64(5), "rpc.response.status_code": "NOT_FOUND"}
	legacyServerNet := map[string]any{"peer.address": "127.0.0.1:CLI"}
	stableServerNet := map[string]any{"network.peer.address": "127.0.0.1", "network.peer.port": "CLI"}
	legacyClientNet := map[string]any{"peer.address": "127.0.0.1:SRV"}
	stableClientNet := map[string]any{"server.address": "127.0.0.1", "server.port": "SRV"}
	with := func(m ...map[string]any) map[string]any {
		out := map[string]any{"component": "grpc", "flow_id": "FLOW"}
		for _, x := range m {
			for k, v := range x {
				out[k] = v
			}
		}
		return out
	}
	for _, tc := range []struct {
		optIn          string
		client, server map[string]any
	}{
		{"", with(legacyRPC, legacyClientNet), with(legacyRPC, legacyServerNet)},
		{"http", with(legacyRPC, stableClientNet), with(legacyRPC, stableServerNet)},
		{"http/dup", with(legacyRPC, legacyClientNet, stableClientNet), with(legacyRPC, legacyServerNet, stableServerNet)},
		{"database", with(legacyRPC, legacyClientNet), with(legacyRPC, legacyServerNet)},
		{"database/dup", with(legacyRPC, legacyClientNet), with(legacyRPC, legacyServerNet)},
		{"rpc", with(stableRPC, legacyClientNet), with(stableRPC, legacyServerNet)},
		{"rpc/dup,http", with(dupRPC, stableClientNet), with(dupRPC, stableServerNet)},
	} {
		t.Run("mode="+tc.optIn, func(t *testing.T) {
			t.Setenv(stability.EnvOptIn, tc.optIn)
			enf := semconv.NewEnforcer(nil, semconv.Strict)
			defer enf.Close()
			rec := tracetest.NewRecorder()
			tr := tracer.New(tracer.WithProcessor(rec), tracer.WithPropagator(propagation.Default()), tracer.WithTagPolicy(enf))
			opts := []tracegrpc.Option{tracegrpc.WithTracer(tr)}
			e := startEnv(t, tracegrpc.ServerOptions(opts...), tracegrpc.DialOptions(opts...))
			_, err := e.unary(context.Background(), "code:5")
			require.Equal(t, codes.NotFound, status.Code(err))

			spans, err := rec.WaitForSpans(context.Background(), 2)
			require.NoError(t, err)
			client, server := pair(t, spans, "test.Echo/Unary")
			_, srvPort, _ := net.SplitHostPort(e.addr)
			cliPort := ""
			if v, ok := server.Attributes["peer.address"].(string); ok {
				_, cliPort, _ = net.SplitHostPort(v)
			} else if v, ok := server.Attributes["network.peer.port"]; ok {
				cliPort = strconv.FormatInt(v.(int64), 10)
			}
			norm := func(s tracetest.Span) map[string]any {
				out := map[string]any{}
				for k, v := range s.Attributes {
					switch x := v.(type) {
					case string:
						v = strings.ReplaceAll(strings.ReplaceAll(x, ":"+srvPort, ":SRV"), ":"+cliPort, ":CLI")
					case int64:
						switch strconv.FormatInt(x, 10) {
						case srvPort:
							v = "SRV"
						case cliPort:
							v = "CLI"
						}
					}
					if k == "flow_id" {
						v = "FLOW"
					}
					out[k] = v
				}
				delete(out, "sampling.probability")
				return out
			}
			require.Equal(t, tc.client, norm(client), "client span")
			require.Equal(t, tc.server, norm(server), "server span")
			require.Zero(t, enf.Stats().Total(), "the strict policy found a violation: %+v", enf.Stats())
		})
	}
}

// TestStabilityUnknownTokenLogged: an unknown token in the switch is
// warned about once, through the middleware's logger, and the known
// tokens still apply.
func TestStabilityUnknownTokenLogged(t *testing.T) {
	t.Setenv(stability.EnvOptIn, "rpc,grpc-stable-please")
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	rec := tracetest.NewRecorder()
	tr := tracer.New(tracer.WithProcessor(rec), tracer.WithPropagator(propagation.Default()))
	opts := []tracegrpc.Option{tracegrpc.WithTracer(tr), tracegrpc.WithLogger(l)}
	e := startEnv(t, tracegrpc.ServerOptions(opts...), tracegrpc.DialOptions(opts...))
	_, err := e.unary(context.Background(), "x")
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(buf.String(), `ignoring unknown value \"grpc-stable-please\"`), buf.String())
	spans, err := rec.WaitForSpans(context.Background(), 2)
	require.NoError(t, err)
	_, server := pair(t, spans, "test.Echo/Unary")
	require.Equal(t, "grpc", server.Attributes["rpc.system.name"])
}
