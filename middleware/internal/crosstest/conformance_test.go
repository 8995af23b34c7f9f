package crosstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/middleware/kafkaconsume"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// The conformance test sends the same inbound hop (trace context, baggage
// and flow-id header values) through the server side of each transport,
// whose handler makes one traced outgoing call of the same transport to a
// sink that records what it received. The oracle is the precedence written
// in package middleware's doc; on top of matching it, the
// transports must agree with each other row by row.

const (
	confTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	tpSampled   = "00-" + confTraceID + "-00f067aa0ba902b7-01"
	tpUnsampled = "00-" + confTraceID + "-00f067aa0ba902b7-00"
	newID       = "<new>" // a made-up flow id: valid, 22 characters, none that was sent
)

// hop is what a scenario sends and how the server is configured.
type hop struct {
	traceparent string
	baggage     string   // W3C baggage header ("" none)
	flow        []string // values of the flow-id key (nil: absent)
	public      bool     // WithPublicEndpoint
	critical    bool     // WithCriticalOperation naming "checkout" for every call
	filter      bool     // WithFilter skipping the call
}

// outcome is what a transport did, with made-up flow ids written newID.
type outcome struct {
	Span     bool   // the inbound span was recorded
	Parent   string // "child", "link" or "root"
	FlowID   string // in the handler's context
	Echo     string // in the response header ("-" where the transport has no response: Kafka)
	Sent     string // the flow-id header the outgoing call carried
	SentBag  string // flow_id in the outgoing call's baggage
	Tag      string // flow_id tag of the inbound span
	Invalid  string // flow_id.invalid tag
	Incoming string // flow_id.incoming tag
	Routing  semconv.Routing
	SpanTags semconv.Routing // critical_operation, traffic_source tags of the inbound span
	SentBagR semconv.Routing // critical_operation, traffic_source in the outgoing baggage
}

type scenario struct {
	name string
	in   hop
	want outcome
}

func scenarios() []scenario {
	routed := func(o outcome, r semconv.Routing) outcome {
		o.Routing, o.SpanTags, o.SentBagR = r, r, r
		return o
	}
	flowAll := func(id string) outcome {
		return outcome{Span: true, Parent: "child", FlowID: id, Echo: id, Sent: id, SentBag: id, Tag: id}
	}
	withInvalid := func(o outcome, v string) outcome { o.Invalid = v; return o }
	public := func(o outcome) outcome { o.Parent = "link"; return o }
	return []scenario{
		{"valid flow id", hop{traceparent: tpSampled, flow: []string{"f-valid"}}, flowAll("f-valid")},
		{"absent flow id", hop{traceparent: tpSampled}, flowAll(newID)},
		{"invalid flow id", hop{traceparent: tpSampled, flow: []string{"bad value"}},
			withInvalid(flowAll(newID), "bad value")},
		{"characters outside the safe set", hop{traceparent: tpSampled, flow: []string{"<script>;x"}},
			withInvalid(flowAll(newID), "<script>;x")},
		{"several flow ids", hop{traceparent: tpSampled, flow: []string{"f-1", "f-2"}},
			withInvalid(flowAll(newID), "f-1")},
		{"conflicting header and baggage: header wins", hop{traceparent: tpSampled, baggage: "flow_id=f-bag", flow: []string{"f-header"}},
			flowAll("f-header")},
		{"baggage only", hop{traceparent: tpSampled, baggage: "flow_id=f-bag"}, flowAll("f-bag")},
		{"invalid header, valid baggage", hop{traceparent: tpSampled, baggage: "flow_id=f-bag", flow: []string{"bad value"}},
			withInvalid(flowAll("f-bag"), "bad value")},
		{"trusted routing baggage", hop{traceparent: tpSampled, baggage: "critical_operation=checkout,traffic_source=app", flow: []string{"f-r"}},
			routed(flowAll("f-r"), semconv.Routing{CriticalOperation: "checkout", TrafficSource: "app"})},
		{"public endpoint", hop{traceparent: tpSampled, baggage: "flow_id=f-bag,critical_operation=free,traffic_source=load-test",
			flow: []string{"f-caller"}, public: true},
			func() outcome {
				o := routed(public(flowAll(newID)), semconv.Routing{TrafficSource: "unknown"})
				o.Incoming = "f-caller"
				return o
			}()},
		{"public endpoint, invalid flow id", hop{traceparent: tpSampled, flow: []string{"bad value"}, public: true},
			routed(withInvalid(public(flowAll(newID)), "bad value"), semconv.Routing{TrafficSource: "unknown"})},
		{"critical operation forces an unsampled parent", hop{traceparent: tpUnsampled, flow: []string{"f-crit"}, critical: true},
			routed(flowAll("f-crit"), semconv.Routing{CriticalOperation: "checkout"})},
		{"trusted critical operation wins over the rule", hop{traceparent: tpSampled, baggage: "critical_operation=add-to-cart", critical: true, flow: []string{"f-c"}},
			routed(flowAll("f-c"), semconv.Routing{CriticalOperation: "add-to-cart"})},
		{"filtered call", hop{traceparent: tpSampled, flow: []string{"f-filter"}, filter: true},
			outcome{FlowID: "f-filter", Echo: "f-filter", Sent: "f-filter", SentBag: "f-filter"}},
		{"filtered call without flow id", hop{traceparent: tpSampled, filter: true},
			outcome{FlowID: newID, Echo: newID, Sent: newID, SentBag: newID}},
		{"filtered call at a public endpoint", hop{traceparent: tpSampled, flow: []string{"f-caller"}, filter: true, public: true},
			outcome{FlowID: newID, Echo: newID, Sent: newID, SentBag: newID}},
	}
}

// observed is what a transport's run saw, before normalisation.
type observed struct {
	ctxFlow string
	routing semconv.Routing
	echo    []string // nil for Kafka
	sent    []string // flow-id values the sink received
	baggage string   // baggage header the sink received
}

type transportRun func(t *testing.T, tr *tracer.Tracer, in hop) observed

// propagator sets: the flow id must travel the same with and without the
// flowid propagator.
var propagatorSets = map[string][]string{
	"default":   {"tracecontext", "baggage", "flowid"},
	"no flowid": {"tracecontext", "baggage"},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	transports := []struct {
		name  string
		kafka bool
		run   func(t *testing.T) transportRun
	}{
		{"http", false, httpTransport},
		{"grpc", false, grpcTransport},
		{"kafka", true, kafkaTransport},
	}
	for pname, names := range propagatorSets {
		t.Run(pname, func(t *testing.T) {
			prop, unknown := propagation.FromNames(names)
			require.Empty(t, unknown)
			got := map[string]map[string]outcome{} // scenario -> transport -> outcome
			for _, tp := range transports {
				t.Run(tp.name, func(t *testing.T) {
					run := tp.run(t)
					for _, sc := range scenarios() {
						t.Run(sc.name, func(t *testing.T) {
							rec := newRecorder()
							tr := tracer.New(tracer.WithProcessor(rec), tracer.WithPropagator(prop),
								tracer.WithSampler(tracer.ParentBased(tracer.AlwaysOn())))
							obs := run(t, tr, sc.in)
							o := normalise(t, sc.in, obs, rec, tp.kafka)
							want := sc.want
							if tp.kafka {
								want.Echo = "-"
							}
							require.Equal(t, want, o)
							if got[sc.name] == nil {
								got[sc.name] = map[string]outcome{}
							}
							got[sc.name][tp.name] = o
						})
					}
				})
			}
			// Row by row, the transports agree (Kafka has no response to echo).
			for name, byTransport := range got {
				ref, ok := byTransport["http"]
				if !ok {
					continue
				}
				for tname, o := range byTransport {
					if tname == "kafka" {
						o.Echo = ref.Echo
					}
					require.Equal(t, ref, o, "%s: %s differs from http", name, tname)
				}
			}
		})
	}
}

// normalise turns an observation and the recorded spans into an outcome.
func normalise(t *testing.T, in hop, obs observed, rec *recorder, isKafka bool) outcome {
	t.Helper()
	sent := map[string]bool{"f-bag": true}
	for _, v := range in.flow {
		sent[v] = true
	}
	id := func(v string) string {
		if v == "" {
			return ""
		}
		if flowid.Valid(v) && len(v) == 22 && !sent[v] && v == obs.ctxFlow {
			return newID
		}
		return v
	}
	one := func(vs []string) string {
		require.LessOrEqual(t, len(vs), 1, "%q", vs)
		if len(vs) == 0 {
			return ""
		}
		return vs[0]
	}
	bag := parseBaggage(obs.baggage)
	o := outcome{
		FlowID:   id(obs.ctxFlow),
		Sent:     id(one(obs.sent)),
		SentBag:  id(bag[semconv.FlowIDKey]),
		Routing:  obs.routing,
		SentBagR: semconv.Routing{CriticalOperation: bag[semconv.CriticalOperationKey], TrafficSource: bag[semconv.TrafficSourceKey]},
	}
	if isKafka {
		o.Echo = "-"
	} else {
		o.Echo = id(one(obs.echo))
	}
	inKind, outKind := tracer.KindServer, tracer.KindClient
	if isKafka {
		inKind, outKind = tracer.KindConsumer, tracer.KindProducer
	}
	spans := rec.wait(t, func(ss []*tracer.SpanData) bool {
		n := 0
		for _, s := range ss {
			if s.Kind == outKind || (!in.filter && s.Kind == inKind) {
				n++
			}
		}
		return n >= 1+map[bool]int{true: 0, false: 1}[in.filter]
	})
	for _, s := range spans {
		if s.Kind != inKind {
			continue
		}
		require.False(t, o.Span, "two inbound spans")
		o.Span = true
		switch {
		case s.ParentSpanID.IsValid():
			require.Equal(t, confTraceID, s.SpanContext.TraceID.String())
			o.Parent = "child"
		case len(s.Links) == 1 && s.Links[0].SpanContext.TraceID.String() == confTraceID:
			o.Parent = "link"
		default:
			o.Parent = "root"
		}
		a := attrs(s)
		o.Tag = id(a[semconv.FlowID.Key()])
		o.Invalid = a[semconv.FlowIDInvalid.Key()]
		o.Incoming = a[semconv.FlowIDIncoming.Key()]
		o.SpanTags = semconv.Routing{CriticalOperation: a["critical_operation"], TrafficSource: a["traffic_source"]}
		_, replaced := a[semconv.FlowIDReplaced.Key()]
		require.False(t, replaced, "flow_id.replaced is not set any more")
	}
	return o
}

func attrs(s *tracer.SpanData) map[string]string {
	m := map[string]string{}
	for _, a := range s.Attributes {
		if v, ok := a.Value.(string); ok {
			m[a.Key] = v
		}
	}
	return m
}

// parseBaggage reads a W3C baggage header of plain members.
func parseBaggage(h string) map[string]string {
	m := map[string]string{}
	for _, member := range strings.Split(h, ",") {
		member, _, _ = strings.Cut(member, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(member), "=")
		if ok {
			m[k] = v
		}
	}
	return m
}

// recorder keeps finished spans in memory.
type recorder struct {
	mu    sync.Mutex
	spans []*tracer.SpanData
}

func newRecorder() *recorder { return &recorder{} }

func (r *recorder) OnEnd(s *tracer.SpanData) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}

func (r *recorder) ForceFlush(context.Context) error { return nil }
func (r *recorder) Shutdown(context.Context) error   { return nil }

// wait returns the spans once done says they are complete, failing the
// test after 10s.
func (r *recorder) wait(t *testing.T, done func([]*tracer.SpanData) bool) []*tracer.SpanData {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		ss := append([]*tracer.SpanData(nil), r.spans...)
		r.mu.Unlock()
		if done(ss) {
			return ss
		}
		require.False(t, time.Now().After(deadline), "spans not complete: %d recorded", len(ss))
		time.Sleep(5 * time.Millisecond)
	}
}

func checkout(string) string { return "checkout" }

// handlerSaw records the handler's context.
func handlerSaw(ctx context.Context, obs *observed) {
	obs.ctxFlow = flowid.FromContext(ctx)
	obs.routing = semconv.FromBaggage(opentracing.SpanFromContext(ctx))
}

func httpTransport(t *testing.T) transportRun {
	var mu sync.Mutex
	var sinkGot http.Header
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sinkGot = r.Header.Clone()
		mu.Unlock()
	}))
	t.Cleanup(sink.Close)
	return func(t *testing.T, tr *tracer.Tracer, in hop) observed {
		var obs observed
		client := &http.Client{Transport: tracehttp.NewTransport(&http.Transport{}, tracehttp.WithTracer(tr))}
		defer client.CloseIdleConnections()
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handlerSaw(r.Context(), &obs)
			req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, sink.URL, nil)
			if err == nil {
				var resp *http.Response
				if resp, err = client.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
			}
		})
		opts := []tracehttp.Option{tracehttp.WithTracer(tr)}
		if in.public {
			opts = append(opts, tracehttp.WithPublicEndpoint())
		}
		if in.critical {
			opts = append(opts, tracehttp.WithCriticalOperation(func(r *http.Request) string { return checkout(r.URL.Path) }))
		}
		if in.filter {
			opts = append(opts, tracehttp.WithFilter(func(*http.Request) bool { return false }))
		}
		srv := httptest.NewServer(tracehttp.NewHandler(h, opts...))
		defer srv.Close()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/hop", nil)
		require.NoError(t, err)
		req.Header.Set("traceparent", in.traceparent)
		if in.baggage != "" {
			req.Header.Set("baggage", in.baggage)
		}
		if in.flow != nil {
			req.Header["X-Flow-Id"] = in.flow
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		obs.echo = resp.Header.Values(flowid.Header)
		mu.Lock()
		obs.sent, obs.baggage = sinkGot.Values(flowid.Header), sinkGot.Get("baggage")
		mu.Unlock()
		return obs
	}
}

// serve starts srv on 127.0.0.1 and returns its address.
func serve(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return lis.Addr().String()
}

func dial(t *testing.T, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// hopService is a service of one unary method whose handler is h.
func hopService(h func(ctx context.Context) error) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "conf.Hop",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Call",
			Handler: func(_ any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
				req := new(wrapperspb.StringValue)
				if err := dec(req); err != nil {
					return nil, err
				}
				call := func(ctx context.Context, _ any) (any, error) { return wrapperspb.String("ok"), h(ctx) }
				if in == nil {
					return call(ctx, req)
				}
				return in(ctx, req, &grpc.UnaryServerInfo{FullMethod: "/conf.Hop/Call"}, call)
			},
		}},
	}
}

func grpcTransport(t *testing.T) transportRun {
	var mu sync.Mutex
	var sinkGot metadata.MD
	sinkSrv := grpc.NewServer()
	sinkSrv.RegisterService(hopService(func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		sinkGot = md.Copy()
		mu.Unlock()
		return nil
	}), nil)
	sinkAddr := serve(t, sinkSrv)
	return func(t *testing.T, tr *tracer.Tracer, in hop) observed {
		var obs observed
		out := dial(t, sinkAddr, tracegrpc.DialOptions(tracegrpc.WithTracer(tr))...)
		opts := []tracegrpc.Option{tracegrpc.WithTracer(tr)}
		if in.public {
			opts = append(opts, tracegrpc.WithPublicEndpoint())
		}
		if in.critical {
			opts = append(opts, tracegrpc.WithCriticalOperation(checkout))
		}
		if in.filter {
			opts = append(opts, tracegrpc.WithFilter(func(context.Context, string) bool { return false }))
		}
		srv := grpc.NewServer(tracegrpc.ServerOptions(opts...)...)
		srv.RegisterService(hopService(func(ctx context.Context) error {
			handlerSaw(ctx, &obs)
			return out.Invoke(ctx, "/conf.Hop/Call", wrapperspb.String("x"), new(wrapperspb.StringValue))
		}), nil)
		conn := dial(t, serve(t, srv))
		md := metadata.Pairs("traceparent", in.traceparent)
		if in.baggage != "" {
			md.Set("baggage", in.baggage)
		}
		for _, v := range in.flow {
			md.Append(flowid.MetadataKey, v)
		}
		var hdr metadata.MD
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), 10*time.Second)
		defer cancel()
		require.NoError(t, conn.Invoke(ctx, "/conf.Hop/Call", wrapperspb.String("x"), new(wrapperspb.StringValue), grpc.Header(&hdr)))
		obs.echo = hdr.Get(flowid.MetadataKey)
		mu.Lock()
		obs.sent, obs.baggage = sinkGot.Get(flowid.MetadataKey), strings.Join(sinkGot.Get("baggage"), ",")
		mu.Unlock()
		return obs
	}
}

func kafkaTransport(t *testing.T) transportRun {
	broker := kafkatest.NewBrokerPartitions(t, 1)
	seq := 0
	return func(t *testing.T, tr *tracer.Tracer, in hop) observed {
		seq++
		inTopic, sinkTopic := fmt.Sprintf("conf-in-%d", seq), fmt.Sprintf("conf-sink-%d", seq)
		require.NoError(t, broker.CreateTopic(inTopic, 1))
		require.NoError(t, broker.CreateTopic(sinkTopic, 1))
		newWriter := func(topic string) *kafka.Writer {
			return &kafka.Writer{Addr: kafka.TCP(broker.Addr()), Topic: topic, RequiredAcks: kafka.RequireAll,
				BatchTimeout: 5 * time.Millisecond, Transport: &kafka.Transport{}, AllowAutoTopicCreation: false}
		}
		newReader := func(topic string) *kafka.Reader {
			return kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker.Addr()}, Topic: topic, Partition: 0,
				MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond,
				ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: 50 * time.Millisecond})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()

		// Inbound: a raw message with the hop's headers.
		hs := []kafka.Header{{Key: "traceparent", Value: []byte(in.traceparent)}}
		if in.baggage != "" {
			hs = append(hs, kafka.Header{Key: "baggage", Value: []byte(in.baggage)})
		}
		for _, v := range in.flow {
			hs = append(hs, kafka.Header{Key: flowid.Header, Value: []byte(v)})
		}
		raw := newWriter(inTopic)
		require.NoError(t, raw.WriteMessages(ctx, kafka.Message{Value: []byte("hop"), Headers: hs}))
		require.NoError(t, raw.Close())
		raw.Transport.(*kafka.Transport).CloseIdleConnections()

		// The consumer's handler produces to the sink, traced.
		var obs observed
		w := tracekafka.NewWriter(newWriter(sinkTopic), tracekafka.WithTracer(tr))
		r := newReader(inTopic)
		opts := []tracekafka.Option{tracekafka.WithTracer(tr)}
		if in.public {
			opts = append(opts, tracekafka.WithPublicEndpoint())
		}
		if in.critical {
			opts = append(opts, tracekafka.WithCriticalOperation(func(m kafka.Message) string { return checkout(m.Topic) }))
		}
		if in.filter {
			opts = append(opts, tracekafka.WithFilter(func(kafka.Message) bool { return false }))
		}
		cctx, stop := context.WithCancel(ctx)
		handled := make(chan error, 1)
		consumed := make(chan struct{})
		go func() {
			defer close(consumed)
			_ = kafkaconsume.New(r, kafkaconsume.WithTracing(opts...)).Consume(cctx, func(ctx context.Context, _ kafka.Message) error {
				handlerSaw(ctx, &obs)
				err := w.WriteMessages(ctx, kafka.Message{Value: []byte("out")})
				handled <- err
				stop()
				return err
			})
		}()
		select {
		case err := <-handled:
			require.NoError(t, err)
		case <-ctx.Done():
			t.Fatal("nothing consumed")
		}
		<-consumed
		require.NoError(t, r.Close())
		require.NoError(t, w.Close())

		sink := newReader(sinkTopic)
		defer sink.Close()
		m, err := sink.ReadMessage(ctx)
		require.NoError(t, err)
		for _, h := range m.Headers {
			switch strings.ToLower(h.Key) {
			case "x-flow-id":
				obs.sent = append(obs.sent, string(h.Value))
			case "baggage":
				obs.baggage = string(h.Value)
			}
		}
		return obs
	}
}

// TestConformanceClientOrigin: a traced outgoing call whose context has no
// flow id (a batch job, a cron task) carries a new one, the same on the
// wire and in its span's flow_id, over every transport and with or without
// the flowid propagator. (The HTTP client used to send none.)
func TestConformanceClientOrigin(t *testing.T) {
	t.Parallel()
	sends := []struct {
		name string
		send func(t *testing.T, tr *tracer.Tracer) []string
	}{
		{"http", func(t *testing.T, tr *tracer.Tracer) []string {
			got := make(chan []string, 1)
			sink := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got <- r.Header.Values(flowid.Header)
			}))
			defer sink.Close()
			tp := &http.Transport{}
			defer tp.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tracehttp.NewTransport(tp, tracehttp.WithTracer(tr))}).Get(sink.URL)
			require.NoError(t, err)
			resp.Body.Close()
			return <-got
		}},
		{"grpc", func(t *testing.T, tr *tracer.Tracer) []string {
			got := make(chan []string, 1)
			srv := grpc.NewServer()
			srv.RegisterService(hopService(func(ctx context.Context) error {
				got <- metadata.ValueFromIncomingContext(ctx, flowid.MetadataKey)
				return nil
			}), nil)
			conn := dial(t, serve(t, srv), tracegrpc.DialOptions(tracegrpc.WithTracer(tr))...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, conn.Invoke(ctx, "/conf.Hop/Call", wrapperspb.String("x"), new(wrapperspb.StringValue)))
			return <-got
		}},
		{"kafka", func(t *testing.T, tr *tracer.Tracer) []string {
			addr := kafkatest.NewBroker(t, "origin")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			w := tracekafka.NewWriter(&kafka.Writer{Addr: kafka.TCP(addr), Topic: "origin", RequiredAcks: kafka.RequireAll,
				BatchTimeout: 5 * time.Millisecond, Transport: &kafka.Transport{}}, tracekafka.WithTracer(tr))
			require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("job")}))
			require.NoError(t, w.Close())
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "origin", MinBytes: 1, MaxBytes: 1 << 20,
				MaxWait: 50 * time.Millisecond})
			defer r.Close()
			m, err := r.ReadMessage(ctx)
			require.NoError(t, err)
			var vs []string
			for _, h := range m.Headers {
				if strings.EqualFold(h.Key, flowid.Header) {
					vs = append(vs, string(h.Value))
				}
			}
			return vs
		}},
	}
	for pname, names := range propagatorSets {
		t.Run(pname, func(t *testing.T) {
			prop, unknown := propagation.FromNames(names)
			require.Empty(t, unknown)
			for _, s := range sends {
				t.Run(s.name, func(t *testing.T) {
					rec := newRecorder()
					tr := tracer.New(tracer.WithProcessor(rec), tracer.WithPropagator(prop))
					sent := s.send(t, tr)
					spans := rec.wait(t, func(ss []*tracer.SpanData) bool { return len(ss) >= 1 })
					require.Len(t, sent, 1, "flow-id values on the wire")
					require.True(t, flowid.Valid(sent[0]))
					require.Equal(t, sent[0], attrs(spans[0])[semconv.FlowID.Key()])
				})
			}
		})
	}
}
