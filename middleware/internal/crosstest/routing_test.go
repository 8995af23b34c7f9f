package crosstest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

const placeOrder = "/shop.Orders/Place"

// shop is three services exporting to one receiver: an HTTP edge (public
// endpoint, "POST /checkout" is the critical operation checkout), the
// gRPC orders service it calls, which produces to Kafka, and the billing
// consumer, whose handler starts a span of its own.
type shop struct {
	rcv                   *tracetest.Receiver
	edge, orders, billing *tracer.Tracer
	url                   string
	consumed              chan semconv.Routing
}

var topicSeq atomic.Int64

func startShop(t *testing.T, edgeRoot tracer.Sampler) *shop {
	t.Helper()
	return startShopEdge(t, edgeRoot, tracehttp.WithPublicEndpoint())
}

// startShopEdge is startShop with the edge's trust given by edgeOpts: with
// no options the edge trusts its callers' baggage.
func startShopEdge(t *testing.T, edgeRoot tracer.Sampler, edgeOpts ...tracehttp.Option) *shop {
	t.Helper()
	// Downstream services sample nothing on their own: whatever reaches
	// the receiver from them follows the edge's decision.
	downstream := tracer.WithSampler(tracer.ParentBased(tracer.AlwaysOff()))
	s := &shop{consumed: make(chan semconv.Routing, 10)}
	s.edge, s.rcv = e2e.NewTracer(t, "edge", tracer.WithSampler(tracer.ParentBased(edgeRoot)))
	s.orders = e2e.NewTracerTo(t, s.rcv, "orders", downstream)
	s.billing = e2e.NewTracerTo(t, s.rcv, "billing", downstream)

	topic := fmt.Sprintf("orders-%d", topicSeq.Add(1))
	broker := kafkatest.NewBroker(t, topic)

	// Orders: gRPC server producing one message per call.
	w := tracekafka.NewWriter(&kafka.Writer{
		Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, Transport: &kafka.Transport{},
	}, tracekafka.WithTracer(s.orders))
	srv := grpc.NewServer(tracegrpc.ServerOptions(tracegrpc.WithTracer(s.orders))...)
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "shop.Orders",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Place",
			Handler: func(_ any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
				req := new(wrapperspb.StringValue)
				if err := dec(req); err != nil {
					return nil, err
				}
				h := func(ctx context.Context, r any) (any, error) {
					err := w.WriteMessages(ctx, kafka.Message{Value: []byte(r.(*wrapperspb.StringValue).GetValue())})
					return wrapperspb.String("placed"), err
				}
				return in(ctx, req, &grpc.UnaryServerInfo{FullMethod: placeOrder}, h)
			},
		}},
	}, nil)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), append(tracegrpc.DialOptions(tracegrpc.WithTracer(s.edge)),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	require.NoError(t, err)

	// Billing: consumer whose handler starts a child span.
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{broker}, Topic: topic, GroupID: "billing", MinBytes: 1, MaxBytes: 10 << 20,
		MaxWait: 50 * time.Millisecond, StartOffset: kafka.FirstOffset, HeartbeatInterval: 100 * time.Millisecond,
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 2 * time.Second,
		ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: 50 * time.Millisecond,
	})
	cctx, cancel := context.WithCancel(context.Background())
	var consumers sync.WaitGroup
	consumers.Add(1)
	go func() {
		defer consumers.Done()
		_ = kafkaconsume.New(r, kafkaconsume.WithTracing(tracekafka.WithTracer(s.billing))).Consume(cctx, func(ctx context.Context, m kafka.Message) error {
			parent := opentracing.SpanFromContext(ctx)
			sp := s.billing.StartSpan("charge card", opentracing.ChildOf(parent.Context()))
			sp.Finish()
			s.consumed <- semconv.FromBaggage(parent)
			return nil
		})
	}()

	// Edge: an HTTP endpoint, public unless edgeOpts say otherwise.
	mux := http.NewServeMux()
	call := func(w http.ResponseWriter, r *http.Request) {
		out := new(wrapperspb.StringValue)
		if err := conn.Invoke(r.Context(), placeOrder, wrapperspb.String("book"), out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, out.GetValue())
	}
	mux.HandleFunc("POST /checkout", call)
	mux.HandleFunc("GET /browse", call)
	critical := map[string]string{"POST /checkout": "checkout"}
	edgeSrv := httptest.NewServer(tracehttp.NewHandler(mux, append([]tracehttp.Option{
		tracehttp.WithTracer(s.edge),
		tracehttp.WithCriticalOperation(func(r *http.Request) string {
			_, pattern := mux.Handler(r)
			return critical[pattern]
		}),
	}, edgeOpts...)...))
	s.url = edgeSrv.URL

	t.Cleanup(func() {
		edgeSrv.Close()
		_ = conn.Close()
		srv.Stop()
		<-served
		cancel()
		consumers.Wait()
		_ = r.Close()
		_ = w.Close()
	})
	return s
}

// do sends one request to the edge and waits for billing to consume the
// message it produced; it returns what the consumer saw in its baggage.
func (s *shop) do(t *testing.T, method, path string, hdr map[string]string) semconv.Routing {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	select {
	case r := <-s.consumed:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("billing consumed nothing")
		return semconv.Routing{}
	}
}

// spans flushes the three services until the receiver holds at least n
// spans, and returns them.
func (s *shop) spans(t *testing.T, n int) []tracetest.Span {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, tr := range []*tracer.Tracer{s.edge, s.orders, s.billing} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			require.NoError(t, tr.ForceFlush(ctx))
			cancel()
		}
		got := s.rcv.Spans()
		if len(got) >= n || time.Now().After(deadline) {
			require.GreaterOrEqual(t, len(got), n, "spans: %v", names(got))
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func names(spans []tracetest.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = fmt.Sprintf("%s/%s", s.Resource["service.name"], s.Name)
	}
	return out
}

// wantTrace are the spans of one request, as service/name.
var wantTrace = []string{
	"edge/POST /checkout", "edge/shop.Orders/Place", "orders/shop.Orders/Place",
	"orders/send ", "billing/process ", "billing/charge card",
}

func requireOneTrace(t *testing.T, spans []tracetest.Span, op, source string) {
	t.Helper()
	require.Len(t, spans, len(wantTrace), "spans: %v", names(spans))
	traceID := spans[0].TraceID
	services := map[string]bool{}
	for _, s := range spans {
		name := fmt.Sprintf("%s/%s", s.Resource["service.name"], s.Name)
		require.Equal(t, traceID, s.TraceID, "%s is in another trace", name)
		services[fmt.Sprint(s.Resource["service.name"])] = true
		if op == "" {
			require.NotContains(t, s.Attributes, "critical_operation", name)
		} else {
			require.Equal(t, op, s.Attributes["critical_operation"], name)
		}
		require.Equal(t, source, s.Attributes["traffic_source"], name)
	}
	require.Equal(t, map[string]bool{"edge": true, "orders": true, "billing": true}, services)
}

// TestCriticalOperationAcrossServices: the edge's rule samples a checkout
// although every tracer's own sampler says no, and every span of the trace
// — HTTP, gRPC client and server, Kafka producer and consumer, and a span
// the consumer's handler starts — carries critical_operation=checkout and
// traffic_source.
func TestCriticalOperationAcrossServices(t *testing.T) {
	t.Parallel()
	s := startShop(t, tracer.AlwaysOff())

	got := s.do(t, http.MethodPost, "/checkout", map[string]string{"X-Traffic-Source": "app"})
	require.Equal(t, semconv.Routing{CriticalOperation: "checkout", TrafficSource: "app"}, got)
	spans := s.spans(t, len(wantTrace))
	requireOneTrace(t, spans, "checkout", "app")
	require.ElementsMatch(t, wantTrace, trimTopics(names(spans)))
	for _, sp := range spans {
		if sp.Resource["service.name"] == "edge" {
			// Forced by the edge's rule: sampled for certain, weight 1.
			require.Equal(t, 1.0, sp.Attributes["sampling.probability"], sp.Name)
		}
	}

	// Not a critical route: with the root sampler off nothing is sampled,
	// yet the traffic source still travels in baggage.
	got = s.do(t, http.MethodGet, "/browse", nil)
	require.Equal(t, semconv.Routing{TrafficSource: "unknown"}, got)
	time.Sleep(100 * time.Millisecond)
	require.Len(t, s.spans(t, len(wantTrace)), len(wantTrace), "an unsampled request was exported")
}

// TestHostileBaggageAtPublicEdge: a client that sends
// critical_operation=free and traffic_source=load-test in its baggage (and
// a trace context) gets neither: the public edge's own rules decide.
func TestHostileBaggageAtPublicEdge(t *testing.T) {
	t.Parallel()
	hostile := map[string]string{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"baggage":     "critical_operation=free,traffic_source=load-test",
	}
	t.Run("critical route", func(t *testing.T) {
		s := startShop(t, tracer.AlwaysOff())
		got := s.do(t, http.MethodPost, "/checkout", hostile)
		require.Equal(t, semconv.Routing{CriticalOperation: "checkout", TrafficSource: "unknown"}, got)
		spans := s.spans(t, len(wantTrace))
		requireOneTrace(t, spans, "checkout", "unknown")
		require.NotEqual(t, "4bf92f3577b34da6a3ce929d0e0e4736", spans[0].TraceID)
	})
	t.Run("other route", func(t *testing.T) {
		s := startShop(t, tracer.AlwaysOn())
		got := s.do(t, http.MethodGet, "/browse", hostile)
		require.Equal(t, semconv.Routing{TrafficSource: "unknown"}, got)
		spans := s.spans(t, len(wantTrace))
		requireOneTrace(t, spans, "", "unknown")
	})
}

// TestHostileRoutedBaggageFromTrustedCaller is the field case: a caller
// the edge trusts sends critical_operation and traffic_source with escape
// sequences, CR/LF and NUL in its baggage. They used to be tagged raw on
// the HTTP, gRPC and Kafka spans and propagated to every service. Now no
// span of the trace carries them and no service below sees them; the
// edge's own rule names the critical operation instead.
func TestHostileRoutedBaggageFromTrustedCaller(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, baggage string }{
		{"escape sequences", "critical_operation=%1B%5B31mfree%1B%5B0m,traffic_source=web%1B%5B2J"},
		{"CR LF", "critical_operation=free%0D%0AX-Injected:%201,traffic_source=web%0D%0A"},
		{"NUL", "critical_operation=free%00,traffic_source=%00web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startShopEdge(t, tracer.AlwaysOff())
			got := s.do(t, http.MethodPost, "/checkout", map[string]string{
				"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
				"baggage":     tc.baggage,
			})
			require.Equal(t, semconv.Routing{CriticalOperation: "checkout"}, got, "what billing saw in its baggage")
			spans := s.spans(t, len(wantTrace))
			require.Len(t, spans, len(wantTrace), "spans: %v", names(spans))
			for _, sp := range spans {
				name := fmt.Sprintf("%s/%s", sp.Resource["service.name"], sp.Name)
				require.Equal(t, "checkout", sp.Attributes["critical_operation"], name)
				require.NotContains(t, sp.Attributes, "traffic_source", name)
				for k, v := range sp.Attributes {
					require.NotRegexp(t, "[\\x00-\\x1f\\x7f]", fmt.Sprint(v), "%s: %s", name, k)
				}
			}
			require.Equal(t, uint64(2), s.edge.Stats().BaggageDropped, "the edge dropped both on Extract")
		})
	}
}

// trimTopics drops the per-test topic from Kafka span names.
func trimTopics(ns []string) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		for _, p := range []string{"orders/send ", "billing/process "} {
			if len(n) > len(p) && n[:len(p)] == p {
				n = p
			}
		}
		out[i] = n
	}
	return out
}
