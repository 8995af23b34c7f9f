package tracetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc"

	"github.com/flowtrace/flowtrace/internal/otlpreceive"
)

// Defaults for a Receiver's bounds.
const (
	DefaultMaxSpans        = 100_000
	DefaultMaxRequestBytes = 16 << 20
)

// Option configures a Receiver.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	maxSpans        int
	maxRequestBytes int
}

func newConfig(opts ...Option) config {
	c := config{maxSpans: DefaultMaxSpans, maxRequestBytes: DefaultMaxRequestBytes}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.maxSpans <= 0 {
		c.maxSpans = DefaultMaxSpans
	}
	if c.maxRequestBytes <= 0 {
		c.maxRequestBytes = DefaultMaxRequestBytes
	}
	return c
}

// WithMaxSpans bounds how many spans the Receiver keeps (default
// DefaultMaxSpans). Spans beyond the bound are acknowledged to the sender,
// not kept, and counted by [Receiver.DroppedSpans]. A value <= 0 means the
// default.
func WithMaxSpans(n int) Option { return optionFunc(func(c *config) { c.maxSpans = n }) }

// WithMaxRequestBytes bounds the size of one request, compressed and after
// decompression (default DefaultMaxRequestBytes). Larger OTLP/HTTP requests
// get 413, larger gRPC messages ResourceExhausted. A value <= 0 means the
// default.
func WithMaxRequestBytes(n int) Option {
	return optionFunc(func(c *config) { c.maxRequestBytes = n })
}

// Receiver is an in-memory OTLP trace receiver serving OTLP/gRPC and
// OTLP/HTTP on loopback. It is safe for concurrent use.
type Receiver struct {
	cfg  config
	otlp *otlpreceive.Handler // decodes requests into record

	grpcLis, httpLis net.Listener
	grpcSrv          *grpc.Server
	httpSrv          *http.Server
	wg               sync.WaitGroup

	store    spanStore
	batches  []ptrace.Traces // guarded by store.mu
	requests int64           // guarded by store.mu

	closeOnce sync.Once
	closeErr  error
}

// NewReceiver starts a Receiver on 127.0.0.1 with ephemeral ports.
func NewReceiver(opts ...Option) (*Receiver, error) {
	r := unstartedReceiver(opts)

	var err error
	if r.grpcLis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("tracetest: listen for gRPC: %w", err)
	}
	if r.httpLis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		_ = r.grpcLis.Close()
		return nil, fmt.Errorf("tracetest: listen for HTTP: %w", err)
	}

	r.grpcSrv = otlpreceive.NewGRPCServer(r.cfg.maxRequestBytes, r.otlp)

	mux := http.NewServeMux()
	mux.Handle("/v1/traces", r.otlp)
	r.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		_ = r.grpcSrv.Serve(r.grpcLis)
	}()
	go func() {
		defer r.wg.Done()
		_ = r.httpSrv.Serve(r.httpLis)
	}()
	return r, nil
}

// unstartedReceiver is a Receiver without listeners; it keeps every request
// its handler accepts.
func unstartedReceiver(opts []Option) *Receiver {
	r := &Receiver{cfg: newConfig(opts...)}
	r.otlp = &otlpreceive.Handler{
		MaxRequestBytes: r.cfg.maxRequestBytes,
		Accept: func(_ context.Context, td ptrace.Traces) (otlpreceive.PartialSuccess, error) {
			r.record(td)
			return otlpreceive.PartialSuccess{}, nil
		},
	}
	return r
}

// GRPCEndpoint returns the OTLP/gRPC endpoint as a URL, e.g.
// "http://127.0.0.1:41234".
func (r *Receiver) GRPCEndpoint() string { return "http://" + r.grpcLis.Addr().String() }

// GRPCAddr returns the OTLP/gRPC listener's host:port.
func (r *Receiver) GRPCAddr() string { return r.grpcLis.Addr().String() }

// HTTPEndpoint returns the full OTLP/HTTP traces URL, e.g.
// "http://127.0.0.1:41235/v1/traces".
func (r *Receiver) HTTPEndpoint() string { return "http://" + r.httpLis.Addr().String() + "/v1/traces" }

// Close stops both servers at once, closing open connections, and waits for
// their goroutines. It is safe to call more than once.
func (r *Receiver) Close() error {
	r.closeOnce.Do(func() {
		r.grpcSrv.Stop()
		r.closeErr = r.httpSrv.Close()
		r.wg.Wait()
	})
	return r.closeErr
}

// Shutdown stops both servers gracefully, letting requests in progress
// finish, and falls back to Close when ctx is done first.
func (r *Receiver) Shutdown(ctx context.Context) error {
	var err error
	r.closeOnce.Do(func() {
		stopped := make(chan struct{})
		go func() {
			r.grpcSrv.GracefulStop()
			close(stopped)
		}()
		err = r.httpSrv.Shutdown(ctx)
		select {
		case <-stopped:
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
		// Stop is a no-op after a completed GracefulStop and ends it otherwise.
		r.grpcSrv.Stop()
		<-stopped
		r.closeErr = errors.Join(err, r.httpSrv.Close())
		r.wg.Wait()
		err = r.closeErr
	})
	return err
}

// record stores one received batch. td must not be used by the caller
// afterwards.
func (r *Receiver) record(td ptrace.Traces) {
	flat := flatten(td)
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	r.requests++
	if r.store.keepLocked(flat, r.cfg.maxSpans) == 0 && td.SpanCount() > 0 {
		return
	}
	r.batches = append(r.batches, td)
}

// Spans returns a copy of every span kept so far, in arrival order.
func (r *Receiver) Spans() []Span {
	return r.store.snapshot()
}

// SpanCount returns how many spans are kept.
func (r *Receiver) SpanCount() int {
	return r.store.count()
}

// DroppedSpans returns how many received spans were not kept because the
// WithMaxSpans bound was reached.
func (r *Receiver) DroppedSpans() int64 {
	return r.store.droppedCount()
}

// Requests returns how many export requests were accepted.
func (r *Receiver) Requests() int64 {
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	return r.requests
}

// Batches returns copies of the raw batches kept so far, one per accepted
// request that carried at least one kept span. The last batch may hold more
// spans than Spans when the WithMaxSpans bound cut it.
func (r *Receiver) Batches() []ptrace.Traces {
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	out := make([]ptrace.Traces, len(r.batches))
	for i, b := range r.batches {
		out[i] = ptrace.NewTraces()
		b.CopyTo(out[i])
	}
	return out
}

// SpansByTrace groups the kept spans by hex trace id.
func (r *Receiver) SpansByTrace() map[string][]Span {
	out := make(map[string][]Span)
	for _, s := range r.Spans() {
		out[s.TraceID] = append(out[s.TraceID], s)
	}
	return out
}

// FindSpan returns the first kept span with the given name.
func (r *Receiver) FindSpan(name string) (Span, bool) {
	return r.store.find(name)
}

// Reset forgets every kept span and batch and the drop counter.
func (r *Receiver) Reset() {
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	r.store.resetLocked()
	r.batches, r.requests = nil, 0
}

// WaitForSpans waits until at least n spans are kept and returns them all,
// or returns what it has with an error when ctx is done first.
func (r *Receiver) WaitForSpans(ctx context.Context, n int) ([]Span, error) {
	return r.store.wait(ctx, n, "got")
}
