package orders_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/examples/otel/orders"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

// The instrumentation scopes of the three libraries.
const (
	scopeSQL   = "github.com/XSAM/otelsql"
	scopeRedis = "github.com/redis/go-redis/extra/redisotel"
	scopeHTTP  = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	scopeOT    = "github.com/flowtrace/flowtrace" // flowtrace's OpenTracing spans
)

// app is the example's service wired to real servers and a flowtrace
// pipeline exporting to endpoint.
type app struct {
	tracing *flowtrace.Tracing
	url     string
	client  *http.Client
	closers []func()
}

func startApp(t *testing.T, endpoint string) *app {
	t.Helper()
	dsn, redisAddr := servers(t)
	tracing := flowtrace.Start(context.Background(),
		config.WithEnv(func(string) (string, bool) { return "", false }),
		config.WithFileSystem(fstest.MapFS{}),
		flowtrace.WithoutGlobalTracer(),
		config.WithServiceName("orders"),
		config.WithEndpoint(endpoint), config.WithProtocol(config.ProtocolGRPC), config.WithInsecure())
	tel := orders.Telemetry{Tracer: tracing.Tracer(), TracerProvider: tracing.TracerProvider(), Propagator: tracing.TracerProvider().Propagator()}
	db, err := orders.OpenPostgres(dsn, tel)
	require.NoError(t, err)
	rdb, err := orders.OpenRedis(redisAddr, tel)
	require.NoError(t, err)
	pricing := httptest.NewServer(orders.PricingHandler(tel))
	pc := orders.NewPricingClient(pricing.URL, tel)
	svc := &orders.Service{Telemetry: tel, DB: db, Redis: rdb, Pricing: pc}
	api := httptest.NewServer(svc.Handler())
	client := &http.Client{Transport: tracehttp.NewTransport(&http.Transport{}, tracehttp.WithTracer(tel.Tracer)), Timeout: 10 * time.Second}
	a := &app{tracing: tracing, url: api.URL, client: client}
	a.closers = []func(){client.CloseIdleConnections, api.Close, pc.CloseIdleConnections, pricing.Close,
		func() { _ = rdb.Close() }, func() { _ = db.Close() }}
	t.Cleanup(a.close)
	return a
}

// close stops the servers and flushes the pipeline; safe to call twice.
func (a *app) close() {
	for _, c := range a.closers {
		c()
	}
	a.closers = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = a.tracing.Shutdown(ctx)
}

func (a *app) order(t *testing.T, id string) string {
	t.Helper()
	resp, err := a.client.Get(a.url + "/orders/" + id)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}

// One request through tracehttp whose handler uses the OpenTracing API,
// the OpenTelemetry API, otelsql (pgx on a real PostgreSQL), redisotel (a
// real redis-server) and otelhttp (the pricing client), checked in the
// real OTLP receiver: one trace, every parent right, the flow id on every
// span, every span once, the database spans children of the handler's
// span with db.* attributes.
func TestOneRequestBothAPIsThreeLibraries(t *testing.T) {
	rcv, err := tracetest.NewReceiver()
	require.NoError(t, err)
	t.Cleanup(func() { _ = rcv.Close() })
	a := startApp(t, rcv.GRPCEndpoint())
	require.Equal(t, "order 7: total 14, cached 14, price 17.99\n", a.order(t, "7"))
	a.close()

	spans := rcv.Spans()
	st := a.tracing.Stats()
	// No span lost or duplicated: what the tracer finished is what the
	// receiver got, each span id once.
	require.Equal(t, st.Tracer.Started, st.Tracer.Finished, "%+v", st.Tracer)
	require.Equal(t, int(st.Tracer.Finished), len(spans), "%+v", st)
	require.Equal(t, int64(len(spans)), st.Export.Exported)
	byID := map[string]tracetest.Span{}
	for _, s := range spans {
		_, dup := byID[s.SpanID]
		require.False(t, dup, "span %s (%s) received twice", s.SpanID, s.Name)
		byID[s.SpanID] = s
	}

	one := func(scope, name string) tracetest.Span {
		t.Helper()
		var found []tracetest.Span
		for _, s := range spans {
			if s.ScopeName == scope && s.Name == name {
				found = append(found, s)
			}
		}
		require.Len(t, found, 1, "%s %q", scope, name)
		return found[0]
	}
	client := one(scopeOT, "GET")
	handler := one(scopeOT, "GET /orders/{id}")
	validate := one(scopeOT, "validate order id")
	price := one(orders.ScopeName, "price order")
	otelClient := one(scopeHTTP, "HTTP GET")
	pricing := one(scopeOT, "GET /price/{id}")

	// One trace, one root, every parent received.
	flow, _ := client.Attributes["flow_id"].(string)
	require.NotEmpty(t, flow, "the client made the flow id")
	for _, s := range spans {
		require.Equal(t, client.TraceID, s.TraceID, "%s is in the request's trace", s.Name)
		require.Equal(t, flow, s.Attributes["flow_id"], "flow id on %s (%s)", s.Name, s.ScopeName)
		require.Equal(t, "orders", s.Resource["service.name"], "one pipeline, one resource")
		if s.SpanID == client.SpanID {
			require.Empty(t, s.ParentSpanID)
			continue
		}
		require.Contains(t, byID, s.ParentSpanID, "the parent of %s was received", s.Name)
	}

	// Parents, API by API.
	require.Equal(t, client.SpanID, handler.ParentSpanID)
	require.Equal(t, tracer.KindServer, handler.Kind)
	require.Equal(t, handler.SpanID, validate.ParentSpanID, "OpenTracing span under tracehttp's")
	require.Equal(t, handler.SpanID, price.ParentSpanID, "OpenTelemetry span under tracehttp's")
	require.Equal(t, price.SpanID, otelClient.ParentSpanID, "otelhttp's client span under the OpenTelemetry span")
	require.Equal(t, tracer.KindClient, otelClient.Kind)
	require.Equal(t, otelClient.SpanID, pricing.ParentSpanID, "the pricing server continues otelhttp's call")

	// The database and cache spans: children of the handler's span, with
	// db.* attributes.
	var sqlSpans, redisSpans []tracetest.Span
	for _, s := range spans {
		switch s.ScopeName {
		case scopeSQL:
			sqlSpans = append(sqlSpans, s)
		case scopeRedis:
			redisSpans = append(redisSpans, s)
		}
	}
	require.NotEmpty(t, sqlSpans)
	query := one(scopeSQL, "sql.conn.query")
	require.Contains(t, statement(query), "SELECT $1::int * 2")
	for _, s := range sqlSpans {
		require.Equal(t, handler.SpanID, s.ParentSpanID, "%s under the handler's span", s.Name)
		require.Equal(t, "postgresql", s.Attributes["db.system"], s.Name)
		require.Equal(t, tracer.KindClient, s.Kind, s.Name)
	}
	set, get := one(scopeRedis, "set"), one(scopeRedis, "get")
	for _, s := range []tracetest.Span{set, get} {
		require.Equal(t, handler.SpanID, s.ParentSpanID, "redis %s under the handler's span", s.Name)
		require.Contains(t, strings.ToLower(statement(s)), s.Name+" order:7")
	}
	for _, s := range redisSpans {
		// A new connection's HELLO is the child of the command that
		// needed it.
		if s.SpanID != set.SpanID && s.SpanID != get.SpanID {
			require.Equal(t, scopeRedis, byID[s.ParentSpanID].ScopeName, "%s under a redis command", s.Name)
		}
		require.Equal(t, "redis", s.Attributes["db.system"], s.Name)
	}
	t.Logf("%d spans: %d otelsql, %d redisotel", len(spans), len(sqlSpans), len(redisSpans))
}

// statement is a span's database statement, under the old or the new
// semantic-convention name.
func statement(s tracetest.Span) string {
	for _, k := range []string{"db.query.text", "db.statement"} {
		if v, ok := s.Attributes[k].(string); ok {
			return v
		}
	}
	return ""
}
