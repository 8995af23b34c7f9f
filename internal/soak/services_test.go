package soak

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
)

// Queue bounds and export settings of every pipeline in the traced phase,
// given through the environment as a deployment would. The bounds are small
// so that a hung collector fills the queues within a behaviour's 1–2 s.
var pipelineEnv = map[string]string{
	"OTEL_BSP_MAX_QUEUE_SIZE":        "1024",
	"FLOWTRACE_BSP_MAX_QUEUE_BYTES":  strconv.Itoa(512 << 10),
	"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "256",
	"OTEL_BSP_SCHEDULE_DELAY":        "100",
	"OTEL_BSP_EXPORT_TIMEOUT":        "1000",
	"OTEL_EXPORTER_OTLP_TIMEOUT":     "1000",
}

// startTracing starts a pipeline for service exporting to endpoint, isolated
// from the machine's environment, files and globals.
func startTracing(service, endpoint string) *flowtrace.Tracing {
	env := map[string]string{"OTEL_SERVICE_NAME": service}
	for k, v := range pipelineEnv {
		env[k] = v
	}
	return flowtrace.Start(context.Background(),
		config.WithEndpoint(endpoint),
		config.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		config.WithFileSystem(fstest.MapFS{}),
		flowtrace.WithoutGlobalTracer(),
	)
}

const (
	cartService = "soak.Cart"
	cartAdd     = "/soak.Cart/Add"
)

// cartDesc is a hand-written gRPC service (no protoc) with one unary method
// answering "added:<value>".
func cartDesc() *grpc.ServiceDesc {
	add := func(_ context.Context, r any) (any, error) {
		return wrapperspb.String("added:" + r.(*wrapperspb.StringValue).GetValue()), nil
	}
	return &grpc.ServiceDesc{
		ServiceName: cartService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Add",
			Handler: func(_ any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
				req := new(wrapperspb.StringValue)
				if err := dec(req); err != nil {
					return nil, err
				}
				if in == nil {
					return add(ctx, req)
				}
				return in(ctx, req, &grpc.UnaryServerInfo{FullMethod: cartAdd}, add)
			},
		}},
	}
}

// counters are the user-visible outcomes of one phase.
type counters struct {
	httpOK, httpFailed        atomic.Int64
	grpcOK, grpcFailed        atomic.Int64
	produced, produceFailed   atomic.Int64
	processed, duplicates     atomic.Int64
	consumeFailed             atomic.Int64
	httpLatency, kafkaLatency histogram
	// Latency by the collector's behaviour at the time (traced phase).
	httpByBehaviour, kafkaByBehaviour [len(behaviours)]histogram
	flips                             *flipLog

	errMu    sync.Mutex
	firstErr error
}

func (c *counters) fail(err error) {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.firstErr == nil {
		c.firstErr = err
	}
}

func (c *counters) err() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.firstErr
}

// maxTracked bounds the message ids checked for duplicates (a 512 KiB
// bitset allocated before the heap baseline).
const maxTracked = 1 << 22

// stack is one copy of the system under load: a frontend HTTP service
// calling a cart gRPC service, and an orders topic with a producer and a
// consumer. With traced, every hop goes through flowtrace's middleware and
// each service has its own pipeline; without, the same code runs with no
// middleware at all (the latency baseline).
type stack struct {
	t      testing.TB
	traced bool
	c      *counters

	tracings map[string]*flowtrace.Tracing
	services []string // the keys of tracings, in start order

	httpLis   net.Listener
	httpSrv   *http.Server
	httpDone  chan struct{}
	baseURL   string
	transport *http.Transport
	client    *http.Client

	grpcSrv  *grpc.Server
	grpcDone chan struct{}
	conn     *grpc.ClientConn

	kafkaTransport *kafka.Transport
	rawWriter      *kafka.Writer
	writer         interface {
		WriteMessages(context.Context, ...kafka.Message) error
	}
	reader       *kafka.Reader
	seen         []uint64 // bitset of processed ids; written by the consumer goroutine only
	seq          atomic.Int64
	stopConsumer context.CancelFunc
	consumerDone chan error
}

// newStack starts a stack; endpoint is the OTLP/gRPC endpoint of the
// traced pipelines (unused without traced).
func newStack(t testing.TB, traced bool, brokerAddr, topic, endpoint string, conns int) *stack {
	t.Helper()
	s := &stack{t: t, traced: traced, c: &counters{}, tracings: map[string]*flowtrace.Tracing{}, seen: make([]uint64, maxTracked/64)}
	tracerOf := func(service string) opentracing.Tracer {
		if !traced {
			return nil
		}
		tr := startTracing(service, endpoint)
		s.tracings[service] = tr
		s.services = append(s.services, service)
		return tr.Tracer()
	}
	web, frontend, cart := tracerOf("soak-web"), tracerOf("soak-frontend"), tracerOf("soak-cart")
	producer, consumer := tracerOf("soak-orders-producer"), tracerOf("soak-orders-consumer")

	// cart: gRPC server.
	var srvOpts []grpc.ServerOption
	if traced {
		srvOpts = tracegrpc.ServerOptions(tracegrpc.WithTracer(cart))
	}
	s.grpcSrv = grpc.NewServer(srvOpts...)
	s.grpcSrv.RegisterService(cartDesc(), nil)
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.grpcDone = make(chan struct{})
	go func() {
		defer close(s.grpcDone)
		_ = s.grpcSrv.Serve(grpcLis)
	}()

	// frontend: HTTP server, gRPC client of cart.
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if traced {
		dialOpts = append(dialOpts, tracegrpc.DialOptions(tracegrpc.WithTracer(frontend))...)
	}
	if s.conn, err = grpc.NewClient(grpcLis.Addr().String(), dialOpts...); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cart/{id}", s.serveCart)
	var h http.Handler = mux
	if traced {
		h = tracehttp.NewHandler(mux, tracehttp.WithTracer(frontend))
	}
	if s.httpLis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.baseURL = "http://" + s.httpLis.Addr().String()
	s.httpSrv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.httpDone = make(chan struct{})
	go func() {
		defer close(s.httpDone)
		_ = s.httpSrv.Serve(s.httpLis)
	}()

	// web: the HTTP client driving the load.
	s.transport = &http.Transport{MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	var rt http.RoundTripper = s.transport
	if traced {
		rt = tracehttp.NewTransport(s.transport, tracehttp.WithTracer(web))
	}
	s.client = &http.Client{Transport: rt, Timeout: 10 * time.Second}

	// orders: producer and consumer on one partition.
	s.kafkaTransport = &kafka.Transport{}
	s.rawWriter = &kafka.Writer{
		Addr:         kafka.TCP(brokerAddr),
		Topic:        topic,
		Balancer:     &kafka.RoundRobin{},
		RequiredAcks: kafka.RequireOne,
		BatchTimeout: 2 * time.Millisecond,
		Transport:    s.kafkaTransport,
	}
	s.writer = s.rawWriter
	if traced {
		s.writer = tracekafka.NewWriter(s.rawWriter, tracekafka.WithTracer(producer))
	}
	s.reader = kafka.NewReader(kafka.ReaderConfig{
		Brokers:     []string{brokerAddr},
		Topic:       topic,
		Partition:   0,
		MinBytes:    1,
		MaxBytes:    1 << 20,
		MaxWait:     20 * time.Millisecond,
		StartOffset: kafka.FirstOffset,
	})
	ctx, cancel := context.WithCancel(context.Background())
	s.stopConsumer = cancel
	s.consumerDone = make(chan error, 1)
	go func() {
		if traced {
			s.consumerDone <- kafkaconsume.New(s.reader, kafkaconsume.WithTracing(tracekafka.WithTracer(consumer))).Consume(ctx, s.process)
			return
		}
		for {
			m, err := s.reader.FetchMessage(ctx)
			if err != nil {
				s.consumerDone <- err
				return
			}
			if err := s.process(ctx, m); err != nil {
				s.consumerDone <- err
				return
			}
		}
	}()
	return s
}

// serveCart is the frontend's handler: one gRPC call to cart per request.
func (s *stack) serveCart(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	out := new(wrapperspb.StringValue)
	if err := s.conn.Invoke(r.Context(), cartAdd, wrapperspb.String(id), out); err != nil {
		s.c.grpcFailed.Add(1)
		s.c.fail(fmt.Errorf("gRPC %s(%s): %w", cartAdd, id, err))
		http.Error(w, "cart: "+err.Error(), http.StatusBadGateway)
		return
	}
	if out.GetValue() != "added:"+id {
		s.c.grpcFailed.Add(1)
		s.c.fail(fmt.Errorf("gRPC %s(%s) answered %q", cartAdd, id, out.GetValue()))
		http.Error(w, "cart: wrong answer", http.StatusBadGateway)
		return
	}
	s.c.grpcOK.Add(1)
	_, _ = io.WriteString(w, out.GetValue())
}

// request makes one user request and checks its answer.
func (s *stack) request(ctx context.Context) {
	id := strconv.FormatInt(s.seq.Add(1), 10)
	start := time.Now()
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/cart/"+id, nil)
		if err != nil {
			return err
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || string(body) != "added:"+id {
			return fmt.Errorf("GET /cart/%s: %d %q", id, resp.StatusCode, body)
		}
		return nil
	}()
	if err != nil {
		s.c.httpFailed.Add(1)
		s.c.fail(err)
		return
	}
	took := time.Since(start)
	s.c.httpLatency.record(took)
	if s.c.flips != nil {
		s.c.httpByBehaviour[s.c.flips.current.Load()].record(took)
	}
	s.c.httpOK.Add(1)
}

// produce writes n messages carrying a unique id and the send time.
func (s *stack) produce(ctx context.Context, n int) {
	msgs := make([]kafka.Message, n)
	now := time.Now().UnixNano()
	for i := range msgs {
		v := make([]byte, 16)
		binary.BigEndian.PutUint64(v, uint64(s.seq.Add(1)))
		binary.BigEndian.PutUint64(v[8:], uint64(now))
		msgs[i] = kafka.Message{Key: []byte("order"), Value: v}
	}
	if err := s.writer.WriteMessages(ctx, msgs...); err != nil {
		s.c.produceFailed.Add(int64(n))
		s.c.fail(fmt.Errorf("kafka write: %w", err))
		return
	}
	s.c.produced.Add(int64(n))
}

// process is the consumer's handler: it checks the message is new and
// records how long it took from the producer.
func (s *stack) process(_ context.Context, m kafka.Message) error {
	if len(m.Value) != 16 {
		s.c.consumeFailed.Add(1)
		s.c.fail(fmt.Errorf("kafka message of %d bytes at offset %d", len(m.Value), m.Offset))
		return nil
	}
	id := binary.BigEndian.Uint64(m.Value)
	sent := int64(binary.BigEndian.Uint64(m.Value[8:]))
	lag := time.Duration(time.Now().UnixNano() - sent)
	s.c.kafkaLatency.record(lag)
	if s.c.flips != nil {
		s.c.kafkaByBehaviour[s.c.flips.current.Load()].record(lag)
	}
	if id < maxTracked {
		word, bit := id/64, uint64(1)<<(id%64)
		if s.seen[word]&bit != 0 {
			s.c.duplicates.Add(1)
			return nil
		}
		s.seen[word] |= bit
	}
	s.c.processed.Add(1)
	return nil
}

// drain waits until the consumer has processed every message produced.
func (s *stack) drain(within time.Duration) error {
	deadline := time.Now().Add(within)
	for s.c.processed.Load() < s.c.produced.Load() {
		if time.Now().After(deadline) {
			return fmt.Errorf("consumer processed %d of %d messages within %v", s.c.processed.Load(), s.c.produced.Load(), within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// closeServices stops the services and clients, in the order a service
// shuts down: stop taking requests, then close outgoing connections. The
// pipelines are left running (see shutdownTracing).
func (s *stack) closeServices() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.transport.CloseIdleConnections()
	err := s.httpSrv.Shutdown(ctx)
	<-s.httpDone
	s.transport.CloseIdleConnections()
	err = errors.Join(err, s.conn.Close())
	s.grpcSrv.GracefulStop()
	<-s.grpcDone

	if w, ok := s.writer.(*tracekafka.Writer); ok {
		err = errors.Join(err, w.Close())
	} else {
		err = errors.Join(err, s.rawWriter.Close())
		s.kafkaTransport.CloseIdleConnections()
	}
	s.stopConsumer()
	if cerr := <-s.consumerDone; cerr != nil && !errors.Is(cerr, context.Canceled) {
		err = errors.Join(err, fmt.Errorf("consumer: %w", cerr))
	}
	return errors.Join(err, s.reader.Close())
}

// shutdownTracing shuts every pipeline down at once with a deadline and
// returns how long the slowest took.
func (s *stack) shutdownTracing(within time.Duration) (time.Duration, map[string]error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	start := time.Now()
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for name, tr := range s.tracings {
		wg.Go(func() {
			err := tr.Shutdown(ctx)
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return time.Since(start), errs
}

// queueBytesCap is the sum of the pipelines' queue bounds in bytes.
func (s *stack) queueBytesCap() int64 {
	var n int64
	for _, tr := range s.tracings {
		n += int64(tr.Config().MaxQueueBytes)
	}
	return n
}
