// Package orders is the service of the OpenTelemetry interop example: one
// request handler that uses flowtrace's OpenTracing API, the OpenTelemetry
// API and three OpenTelemetry-instrumented libraries (otelsql over pgx,
// redisotel, and otelhttp inside a small pricing client), all feeding one
// flowtrace pipeline. The example (package main) and its tests run this
// same code.
package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/opentracing/opentracing-go"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	// The pgx driver for database/sql, registered as "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/tracer"
)

// ScopeName is the instrumentation scope of this package's own
// OpenTelemetry spans.
const ScopeName = "github.com/flowtrace/flowtrace/examples/otel/orders"

// Telemetry is what the service is instrumented with: flowtrace's tracer
// (OpenTracing API) and its OpenTelemetry API. A program that lets
// flowtrace.Start set the globals passes opentracing.GlobalTracer(),
// otel.GetTracerProvider() and otel.GetTextMapPropagator(); the tests pass
// them explicitly.
type Telemetry struct {
	Tracer         *tracer.Tracer
	TracerProvider trace.TracerProvider
	Propagator     otelprop.TextMapPropagator
}

// OpenPostgres opens PostgreSQL through pgx, instrumented by otelsql on
// tel's provider. Connection set-up and session resets are left out of
// the trace (they belong to the pool, not to one request).
func OpenPostgres(dsn string, tel Telemetry) (*sql.DB, error) {
	db, err := otelsql.Open("pgx", dsn,
		otelsql.WithTracerProvider(tel.TracerProvider),
		otelsql.WithAttributes(attribute.String("db.system", "postgresql")),
		otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitConnectorConnect: true}))
	if err != nil {
		return nil, err
	}
	return db, nil
}

// OpenRedis connects to redis-server at addr, instrumented by redisotel
// on tel's provider.
func OpenRedis(addr string, tel Telemetry) (*redis.Client, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true, Protocol: 2})
	// Dials are left out: go-redis dials on the pool's context, not the
	// request's, so each would be a trace of its own.
	if err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tel.TracerProvider), redisotel.WithDialFilter(true)); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return rdb, nil
}

// PricingClient is a small client library instrumented the OpenTelemetry
// way: its transport is otelhttp's, on the provider and propagator given.
type PricingClient struct {
	base   string
	client *http.Client
}

// NewPricingClient returns a client of the pricing service at base.
func NewPricingClient(base string, tel Telemetry) *PricingClient {
	tr := otelhttp.NewTransport(&http.Transport{},
		otelhttp.WithTracerProvider(tel.TracerProvider), otelhttp.WithPropagators(tel.Propagator))
	return &PricingClient{base: base, client: &http.Client{Transport: tr, Timeout: 5 * time.Second}}
}

// Quote asks the pricing service for an order's price.
func (c *PricingClient) Quote(ctx context.Context, id int) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/price/"+strconv.Itoa(id), nil)
	if err != nil {
		return "", err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("pricing: %s", resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

// CloseIdleConnections closes the client's idle connections.
func (c *PricingClient) CloseIdleConnections() { c.client.CloseIdleConnections() }

// PricingHandler is the pricing service, traced by tracehttp.
func PricingHandler(tel Telemetry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /price/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d.99\n", 10+id%90)
	})
	return tracehttp.NewHandler(mux, tracehttp.WithTracer(tel.Tracer))
}

// Service is the orders service. DB and Redis may be nil: that step is
// skipped (the example's fallback when no server is configured).
type Service struct {
	Telemetry Telemetry
	DB        *sql.DB
	Redis     *redis.Client
	Pricing   *PricingClient
}

// Handler serves GET /orders/{id}, traced by tracehttp.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", s.order)
	return tracehttp.NewHandler(mux, tracehttp.WithTracer(s.Telemetry.Tracer))
}

func (s *Service) order(w http.ResponseWriter, r *http.Request) {
	// r.Context() holds tracehttp's server span: every span below, of
	// either API and of each library, is its child.
	ctx := r.Context()

	// The service's own code, OpenTracing style.
	check, _ := opentracing.StartSpanFromContextWithTracer(ctx, s.Telemetry.Tracer, "validate order id")
	id, err := strconv.Atoi(r.PathValue("id"))
	check.SetTag("order.id", r.PathValue("id"))
	check.Finish()
	if err != nil || id < 0 {
		http.Error(w, "bad order id", http.StatusBadRequest)
		return
	}

	total := id
	if s.DB != nil {
		// otelsql: spans for the query and its rows.
		if err := s.DB.QueryRowContext(ctx, "SELECT $1::int * 2", id).Scan(&total); err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusBadGateway)
			return
		}
	}
	cached := "no cache"
	if s.Redis != nil {
		// redisotel: one span per command.
		key := "order:" + strconv.Itoa(id)
		if err := s.Redis.Set(ctx, key, total, time.Minute).Err(); err != nil {
			http.Error(w, "redis: "+err.Error(), http.StatusBadGateway)
			return
		}
		v, err := s.Redis.Get(ctx, key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			http.Error(w, "redis: "+err.Error(), http.StatusBadGateway)
			return
		}
		cached = "cached " + v
	}

	// The service's own code, OpenTelemetry style, around a library call
	// that otelhttp traces.
	pctx, span := s.Telemetry.TracerProvider.Tracer(ScopeName).Start(ctx, "price order",
		trace.WithAttributes(attribute.Int("order.id", id)))
	price, err := s.Pricing.Quote(pctx, id)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "pricing failed")
	}
	span.End()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "order %d: total %d, %s, price %s\n", id, total, cached, price)
}
