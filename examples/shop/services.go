package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/semconv"
)

// Environment the parent passes to each service process.
const (
	envRole        = "SHOP_ROLE"
	envCatalogAddr = "SHOP_CATALOG_ADDR"
	envCartAddr    = "SHOP_CART_ADDR"
	envOrderAddr   = "SHOP_ORDER_ADDR"
	envBrokers     = "FLOWTRACE_KAFKA_BROKERS"
	ordersTopic    = "orders"
)

// runService is a service process: it configures flowtrace from its own
// environment, serves until SIGTERM, then flushes its spans.
func runService(role string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	tracing := flowtrace.Start(ctx)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tracing.Shutdown(sctx)
	}()

	switch role {
	case "payment":
		fmt.Println("ready -")
		return runPayment(ctx)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var serve func() error
	var shutdown func()
	switch role {
	case "edge":
		serve, shutdown = httpServer(lis, edgeHandler())
	case "catalog":
		serve, shutdown = httpServer(lis, catalogHandler())
	case "cart":
		desc, impl := cartService()
		serve, shutdown = grpcServer(lis, desc, impl)
	case "order":
		desc, impl := orderService()
		serve, shutdown = grpcServer(lis, desc, impl)
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	fmt.Println("ready", lis.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case <-ctx.Done():
		shutdown()
		return nil
	case err := <-errc:
		return err
	}
}

func httpServer(lis net.Listener, h http.Handler) (func() error, func()) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	serve := func() error {
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return serve, shutdown
}

func grpcServer(lis net.Listener, desc *grpc.ServiceDesc, impl any) (func() error, func()) {
	srv := grpc.NewServer(tracegrpc.ServerOptions()...)
	srv.RegisterService(desc, impl)
	return func() error { return srv.Serve(lis) }, srv.GracefulStop
}

// sleep simulates work: mostly short, sometimes slow.
func sleep(base time.Duration) {
	d := base + time.Duration(rand.Int64N(int64(base)))
	if rand.IntN(50) == 0 {
		d *= 8
	}
	time.Sleep(d)
}

// criticalOperations maps the edge's routes to the org's critical user
// operations: their traces are all sampled (forced, probability 1). Other
// routes (GET /search) are sampled by the configured sampler alone, so
// under a ratio sampler their spans stand for 1/p requests each.
var criticalOperations = map[string]string{
	"GET /browse":    "browse",
	"POST /cart/add": "add-to-cart",
	"POST /checkout": "checkout",
}

func edgeHandler() http.Handler {
	// The client names its callee (peer.service, as OpenTracing's ext
	// package does): if catalog is ever left uninstrumented, flowtrace
	// coverage can still say which service the trace goes dark at.
	client := &http.Client{Transport: tracehttp.NewTransport(nil, tracehttp.WithTags(func(*http.Request) opentracing.Tags {
		return opentracing.Tags{"peer.service": "catalog"}
	})), Timeout: 5 * time.Second}
	conn, err := grpc.NewClient(os.Getenv(envCartAddr), append(tracegrpc.DialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()), callJSON)...)
	if err != nil {
		panic(err)
	}
	catalog := "http://" + os.Getenv(envCatalogAddr)
	mux := http.NewServeMux()
	// catalogCall asks the catalog for path and answers with its status.
	catalogCall := func(path, answer string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, catalog+path, nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write([]byte(answer))
		}
	}
	mux.HandleFunc("GET /browse", catalogCall("/products", "products\n"))
	mux.HandleFunc("GET /search", catalogCall("/products?q=book", "results\n"))
	cartCall := func(w http.ResponseWriter, r *http.Request, method string) {
		var reply cartReply
		err := conn.Invoke(r.Context(), "/shop.Cart/"+method, &cartRequest{User: r.URL.Query().Get("user"), Item: "book"}, &reply)
		if err != nil {
			http.Error(w, status.Convert(err).Message(), http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(reply)
	}
	mux.HandleFunc("POST /cart/add", func(w http.ResponseWriter, r *http.Request) { cartCall(w, r, "AddItem") })
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) { cartCall(w, r, "Checkout") })
	return tracehttp.NewHandler(mux,
		tracehttp.WithPublicEndpoint(),
		tracehttp.WithCriticalOperation(func(r *http.Request) string {
			_, pattern := mux.Handler(r)
			return criticalOperations[pattern]
		}),
		tracehttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }),
	)
}

func catalogHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		sleep(2 * time.Millisecond)
		_, _ = w.Write([]byte(`[{"id":"book"}]`))
	})
	return tracehttp.NewHandler(mux)
}

type cart struct{ order *grpc.ClientConn }

func cartService() (*grpc.ServiceDesc, any) {
	conn, err := grpc.NewClient(os.Getenv(envOrderAddr), append(tracegrpc.DialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()), callJSON)...)
	if err != nil {
		panic(err)
	}
	c := &cart{order: conn}
	return serviceDesc("shop.Cart",
		unary("AddItem", func(ctx context.Context, req *cartRequest) (*cartReply, error) {
			sleep(time.Millisecond)
			if rand.IntN(40) == 0 {
				return nil, status.Error(codes.Unavailable, "cart store unavailable")
			}
			return &cartReply{Items: 1 + rand.IntN(3)}, nil
		}),
		unary("Checkout", func(ctx context.Context, req *cartRequest) (*cartReply, error) {
			sleep(time.Millisecond)
			var reply orderReply
			if err := c.order.Invoke(ctx, "/shop.Order/PlaceOrder", &orderRequest{User: req.User, Items: 2}, &reply); err != nil {
				return nil, err
			}
			return &cartReply{Items: 2, OrderID: reply.OrderID}, nil
		}),
	), c
}

func orderService() (*grpc.ServiceDesc, any) {
	w := tracekafka.NewWriter(&kafka.Writer{
		Addr:         kafka.TCP(os.Getenv(envBrokers)),
		Topic:        ordersTopic,
		BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireOne,
		Transport:    &kafka.Transport{},
	})
	return serviceDesc("shop.Order",
		unary("PlaceOrder", func(ctx context.Context, req *orderRequest) (*orderReply, error) {
			sleep(time.Millisecond)
			id := fmt.Sprintf("o-%08x", rand.Uint32())
			body, _ := json.Marshal(map[string]any{"order_id": id, "user": req.User, "items": req.Items})
			if err := w.WriteMessages(ctx, kafka.Message{Key: []byte(id), Value: body}); err != nil {
				return nil, status.Error(codes.Internal, "publishing order: "+err.Error())
			}
			return &orderReply{OrderID: id}, nil
		}),
	), w
}

func runPayment(ctx context.Context) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:  []string{os.Getenv(envBrokers)},
		GroupID:  "payment",
		Topic:    ordersTopic,
		MaxWait:  50 * time.Millisecond,
		MinBytes: 1,
		MaxBytes: 1 << 20,
	})
	defer r.Close()
	err := kafkaconsume.New(r).Consume(ctx, func(ctx context.Context, m kafka.Message) error {
		span := opentracing.SpanFromContext(ctx)
		sleep(3 * time.Millisecond)
		if rand.IntN(25) == 0 && span != nil {
			// A declined card is a business outcome, not a processing
			// failure: mark the span, commit the message.
			semconv.Error.Set(span, true)
			semconv.ErrorKind.Set(span, "card_declined")
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}
