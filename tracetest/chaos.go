package tracetest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/flowtrace/flowtrace/internal/otlpreceive"
)

// BehaviorKind names what a ChaosReceiver does with a request.
type BehaviorKind int

// Behaviour kinds; see the constructors of Behavior for their details.
const (
	KindHealthy BehaviorKind = iota
	KindSlow
	KindHang
	KindReset
	KindThrottle
	KindUnavailable
	KindPartialSuccess
	KindUnboundedBody
	numKinds
)

var kindNames = [numKinds]string{"healthy", "slow", "hang", "reset", "throttle", "unavailable", "partial_success", "unbounded_body"}

func (k BehaviorKind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "BehaviorKind(" + strconv.Itoa(int(k)) + ")"
}

// MaxChaosDelay bounds every delay a Behavior asks for, so a mistaken test
// cannot hang a receiver for long.
const MaxChaosDelay = time.Minute

// Behavior is what a ChaosReceiver does with the requests it gets; build one
// with Healthy, Slow, SlowRandom, Hang, Reset, Throttle, Unavailable,
// PartialSuccess or UnboundedBody. The zero Behavior is Healthy.
type Behavior struct {
	kind       BehaviorKind
	delay      time.Duration // Slow: fixed delay, or the least of a random one
	maxDelay   time.Duration // SlowRandom: the most of a random delay
	retryAfter time.Duration // Throttle, Unavailable
	rejected   int64         // PartialSuccess
	message    string        // PartialSuccess
	status     int           // UnboundedBody
}

// Kind returns the behaviour's kind.
func (b Behavior) Kind() BehaviorKind { return b.kind }

func (b Behavior) String() string { return b.kind.String() }

// Healthy accepts and keeps every request.
func Healthy() Behavior { return Behavior{kind: KindHealthy} }

// Slow waits d (at most MaxChaosDelay) and then answers like Healthy. A
// request whose client gives up first is not kept.
func Slow(d time.Duration) Behavior {
	return Behavior{kind: KindSlow, delay: clampDelay(d), maxDelay: clampDelay(d)}
}

// SlowRandom waits a uniformly random time in [lo, hi] (at most
// MaxChaosDelay) and then answers like Healthy.
func SlowRandom(lo, hi time.Duration) Behavior {
	lo, hi = clampDelay(lo), clampDelay(hi)
	if hi < lo {
		lo, hi = hi, lo
	}
	return Behavior{kind: KindSlow, delay: lo, maxDelay: hi}
}

// Hang never answers: the request is held until its client gives up, the
// receiver closes, or the behaviour changes (the request is then handled by
// the new behaviour). Unlike a Blackhole, the TCP connection and, for TLS,
// the handshake complete normally.
func Hang() Behavior { return Behavior{kind: KindHang} }

// Reset closes the request's TCP connection abruptly (RST where the
// platform allows) after reading part of the request.
func Reset() Behavior { return Behavior{kind: KindReset} }

// Throttle answers HTTP 429 with a Retry-After header (whole seconds,
// rounded up) and gRPC RESOURCE_EXHAUSTED with a RetryInfo detail carrying
// retryAfter. retryAfter <= 0 sends no Retry-After and no RetryInfo (gRPC
// clients do not retry RESOURCE_EXHAUSTED without RetryInfo).
func Throttle(retryAfter time.Duration) Behavior {
	return Behavior{kind: KindThrottle, retryAfter: clampDelay(retryAfter)}
}

// Unavailable answers HTTP 503 and gRPC UNAVAILABLE, with Retry-After and
// RetryInfo as Throttle does.
func Unavailable(retryAfter time.Duration) Behavior {
	return Behavior{kind: KindUnavailable, retryAfter: clampDelay(retryAfter)}
}

// PartialSuccess keeps a request's spans except its first rejected ones and
// answers with an OTLP partial success naming min(rejected, spans in the
// request) rejected spans and message.
func PartialSuccess(rejected int64, message string) Behavior {
	return Behavior{kind: KindPartialSuccess, rejected: max(rejected, 0), message: message}
}

// UnboundedBody (OTLP/HTTP only) answers with statusCode and then streams
// response bytes until the client closes the connection (CVE-2026-39882).
// Over gRPC it answers like Healthy. A statusCode outside 200..599 means
// 200.
func UnboundedBody(statusCode int) Behavior {
	if statusCode < 200 || statusCode > 599 {
		statusCode = http.StatusOK
	}
	return Behavior{kind: KindUnboundedBody, status: statusCode}
}

func clampDelay(d time.Duration) time.Duration { return min(max(d, 0), MaxChaosDelay) }

func (b Behavior) sleep() time.Duration {
	if b.maxDelay <= b.delay {
		return b.delay
	}
	return b.delay + rand.N(b.maxDelay-b.delay+1)
}

// ChaosReceiver is a Receiver whose behaviour a test switches at run time
// with SetBehavior: healthy, slow, hung, resetting connections, throttling,
// unavailable, partially successful, or streaming an unbounded response
// body. NewTLSChaosReceiver serves TLS with a certificate no client trusts
// unless it is given CACertPEM. Spans from answered requests are kept as by
// a Receiver; Hits counts requests per behaviour. It is safe for concurrent
// use; Close stops every goroutine it started, including held requests.
type ChaosReceiver struct {
	*Receiver

	tls    bool
	caPEM  []byte
	conns  *connTracker
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	behavior Behavior
	changed  chan struct{} // closed and replaced by SetBehavior
	hits     [numKinds]int64
	held     int
	bodySent int64
}

// NewChaosReceiver starts a healthy ChaosReceiver on 127.0.0.1 serving
// plain-text OTLP/gRPC and OTLP/HTTP.
func NewChaosReceiver(opts ...Option) (*ChaosReceiver, error) {
	return newChaos(nil, opts)
}

// NewTLSChaosReceiver starts a healthy ChaosReceiver serving OTLP/gRPC and
// OTLP/HTTP over TLS with a fresh self-signed certificate for 127.0.0.1.
// Clients trusting CACertPEM succeed; clients trusting anything else fail
// the handshake (the "wrong certificate" fault).
func NewTLSChaosReceiver(opts ...Option) (*ChaosReceiver, error) {
	cert, caPEM, err := selfSignedCert()
	if err != nil {
		return nil, err
	}
	c, err := newChaos(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, opts)
	if err != nil {
		return nil, err
	}
	c.caPEM = caPEM
	return c, nil
}

func newChaos(tlsCfg *tls.Config, opts []Option) (*ChaosReceiver, error) {
	r := unstartedReceiver(opts)
	c := &ChaosReceiver{
		Receiver: r,
		tls:      tlsCfg != nil,
		conns:    &connTracker{conns: make(map[string]net.Conn)},
		closed:   make(chan struct{}),
		changed:  make(chan struct{}),
	}

	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tracetest: listen for gRPC: %w", err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = grpcLis.Close()
		return nil, fmt.Errorf("tracetest: listen for HTTP: %w", err)
	}
	r.grpcLis = &trackingListener{Listener: grpcLis, t: c.conns}
	r.httpLis = httpLis

	var srvOpts []grpc.ServerOption
	if tlsCfg != nil {
		srvOpts = append(srvOpts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	r.grpcSrv = otlpreceive.NewGRPCServer(r.cfg.maxRequestBytes, &chaosGRPC{c: c}, srvOpts...)

	mux := http.NewServeMux()
	mux.HandleFunc("/v1/traces", c.serveHTTP)
	r.httpSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// TLS handshake failures are the point of some tests; keep them quiet.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	var serveHTTPOn net.Listener = httpLis
	if tlsCfg != nil {
		serveHTTPOn = tls.NewListener(httpLis, tlsCfg)
	}

	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		_ = r.grpcSrv.Serve(r.grpcLis)
	}()
	go func() {
		defer r.wg.Done()
		_ = r.httpSrv.Serve(serveHTTPOn)
	}()
	return c, nil
}

// GRPCEndpoint returns the OTLP/gRPC endpoint as a URL, https for a TLS
// receiver.
func (c *ChaosReceiver) GRPCEndpoint() string { return c.scheme() + c.grpcLis.Addr().String() }

// HTTPEndpoint returns the full OTLP/HTTP traces URL, https for a TLS
// receiver.
func (c *ChaosReceiver) HTTPEndpoint() string {
	return c.scheme() + c.httpLis.Addr().String() + "/v1/traces"
}

func (c *ChaosReceiver) scheme() string {
	if c.tls {
		return "https://"
	}
	return "http://"
}

// CACertPEM returns the PEM certificate a client must trust to reach a TLS
// receiver, or nil for a plain-text one.
func (c *ChaosReceiver) CACertPEM() []byte { return append([]byte(nil), c.caPEM...) }

// SetBehavior switches the behaviour for requests from now on; requests
// held by Hang are handled by the new behaviour.
func (c *ChaosReceiver) SetBehavior(b Behavior) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.behavior = b
	close(c.changed)
	c.changed = make(chan struct{})
}

// Behavior returns the current behaviour.
func (c *ChaosReceiver) Behavior() Behavior {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.behavior
}

// Hits returns how many requests (gRPC and HTTP) met behaviour kind k. A
// request held by Hang and then handled by another behaviour counts for
// both.
func (c *ChaosReceiver) Hits(k BehaviorKind) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k < 0 || k >= numKinds {
		return 0
	}
	return c.hits[k]
}

// TotalHits returns how many requests arrived, whatever their behaviour.
func (c *ChaosReceiver) TotalHits() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, h := range c.hits {
		n += h
	}
	return n
}

// UnboundedBytesSent returns how many response bytes UnboundedBody wrote.
func (c *ChaosReceiver) UnboundedBytesSent() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bodySent
}

// Close releases held requests, stops both servers, closing open
// connections, and waits for their goroutines. It is safe to call more than
// once.
func (c *ChaosReceiver) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Receiver.Close()
}

// Shutdown releases held requests and then shuts down like
// Receiver.Shutdown.
func (c *ChaosReceiver) Shutdown(ctx context.Context) error {
	c.once.Do(func() { close(c.closed) })
	return c.Receiver.Shutdown(ctx)
}

// next counts a request against the current behaviour and returns it; a
// Hang is waited out here until the behaviour changes, done is closed or
// the receiver closes (ok is then false).
func (c *ChaosReceiver) next(done <-chan struct{}) (Behavior, bool) {
	for {
		c.mu.Lock()
		b, changed := c.behavior, c.changed
		c.hits[b.kind]++
		c.mu.Unlock()
		if b.kind != KindHang {
			return b, true
		}
		if !c.hold(changed, done) {
			return b, false
		}
	}
}

// hold waits until changed, done or the receiver's closing, counted in
// Held; it reports whether the request should go on.
func (c *ChaosReceiver) hold(changed, done <-chan struct{}) bool {
	c.mu.Lock()
	c.held++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.held--
		c.mu.Unlock()
	}()
	select {
	case <-changed:
	case <-done:
		return false
	case <-c.closed:
		return false
	}
	// A request given up while held is not handled by the new behaviour.
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Held returns how many requests Hang holds now.
func (c *ChaosReceiver) Held() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// wait sleeps d, reporting false when done or the receiver closes first.
func (c *ChaosReceiver) wait(d time.Duration, done <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	case <-c.closed:
		return false
	}
}

// keepPartial drops the first rejected spans of td and keeps the rest; it
// returns how many it dropped.
func (c *ChaosReceiver) keepPartial(td ptrace.Traces, rejected int64) int64 {
	n := min(rejected, int64(td.SpanCount()))
	left := n
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len() && left > 0; i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len() && left > 0; j++ {
			sss.At(j).Spans().RemoveIf(func(ptrace.Span) bool {
				if left == 0 {
					return false
				}
				left--
				return true
			})
		}
	}
	c.record(td)
	return n
}

type chaosGRPC struct {
	ptraceotlp.UnimplementedGRPCServer
	c *ChaosReceiver
}

func (s *chaosGRPC) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	c := s.c
	resp := ptraceotlp.NewExportResponse()
	b, ok := c.next(ctx.Done())
	if !ok {
		return resp, abandoned(ctx)
	}
	switch b.kind {
	case KindSlow:
		if !c.wait(b.sleep(), ctx.Done()) {
			return resp, abandoned(ctx)
		}
	case KindReset:
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			c.conns.reset(p.Addr.String())
		}
		return resp, status.Error(codes.Unavailable, "tracetest: connection reset")
	case KindThrottle:
		return resp, retryStatus(codes.ResourceExhausted, "tracetest: throttled", b.retryAfter)
	case KindUnavailable:
		return resp, retryStatus(codes.Unavailable, "tracetest: unavailable", b.retryAfter)
	case KindPartialSuccess:
		return c.partial(b).Export(ctx, req)
	}
	return c.otlp.Export(ctx, req)
}

// partial is a handler that keeps what partial success b keeps.
func (c *ChaosReceiver) partial(b Behavior) *otlpreceive.Handler {
	return &otlpreceive.Handler{
		MaxRequestBytes: c.cfg.maxRequestBytes,
		Accept: func(_ context.Context, td ptrace.Traces) (otlpreceive.PartialSuccess, error) {
			return otlpreceive.PartialSuccess{RejectedSpans: c.keepPartial(td, b.rejected), Message: b.message}, nil
		},
	}
}

// abandoned is the status of a request given up by its client (its
// context's error) or by a closing receiver (UNAVAILABLE).
func abandoned(ctx context.Context) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Error(codes.Unavailable, "tracetest: receiver closing")
}

func retryStatus(code codes.Code, msg string, retryAfter time.Duration) error {
	st := status.New(code, msg)
	if retryAfter <= 0 {
		return st.Err()
	}
	withInfo, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)})
	if err != nil {
		return st.Err()
	}
	return withInfo.Err()
}

func (c *ChaosReceiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	b, ok := c.next(req.Context().Done())
	if !ok {
		// The client is gone or the receiver is closing: close the
		// connection without an answer.
		panic(http.ErrAbortHandler)
	}
	switch b.kind {
	case KindSlow:
		if !c.wait(b.sleep(), req.Context().Done()) {
			return
		}
	case KindReset:
		c.resetHTTP(w, req)
		return
	case KindThrottle, KindUnavailable:
		code := http.StatusTooManyRequests
		if b.kind == KindUnavailable {
			code = http.StatusServiceUnavailable
		}
		if b.retryAfter > 0 {
			secs := (b.retryAfter + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, int64(c.cfg.maxRequestBytes)))
		http.Error(w, b.kind.String(), code)
		return
	case KindUnboundedBody:
		c.streamForever(w, req, b.status)
		return
	case KindPartialSuccess:
		c.partial(b).ServeHTTP(w, req)
		return
	}
	c.otlp.ServeHTTP(w, req)
}

// resetHTTP reads part of the request and closes the connection abruptly.
func (c *ChaosReceiver) resetHTTP(w http.ResponseWriter, req *http.Request) {
	var buf [16]byte
	_, _ = req.Body.Read(buf[:])
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// streamForever answers code and writes bytes until the client goes away or
// the receiver closes.
func (c *ChaosReceiver) streamForever(w http.ResponseWriter, req *http.Request, code int) {
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, int64(c.cfg.maxRequestBytes)))
	w.Header().Set("Content-Type", otlpreceive.ContentTypeProto)
	w.WriteHeader(code)
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	rc := http.NewResponseController(w)
	for {
		select {
		case <-req.Context().Done():
			return
		case <-c.closed:
			return
		default:
		}
		n, err := w.Write(chunk)
		c.mu.Lock()
		c.bodySent += int64(n)
		c.mu.Unlock()
		if err != nil || rc.Flush() != nil {
			return
		}
	}
}

// connTracker remembers the open connections of a listener by remote
// address, so a gRPC handler can reset its own connection.
type connTracker struct {
	mu    sync.Mutex
	conns map[string]net.Conn
}

func (t *connTracker) add(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conns[c.RemoteAddr().String()] = c
}

func (t *connTracker) remove(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, addr)
}

func (t *connTracker) reset(addr string) {
	t.mu.Lock()
	c := t.conns[addr]
	t.mu.Unlock()
	if c == nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

type trackingListener struct {
	net.Listener
	t *connTracker
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.t.add(c)
	return &trackedConn{Conn: c, t: l.t}, nil
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.t.remove(c.RemoteAddr().String()) })
	err := c.Conn.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
