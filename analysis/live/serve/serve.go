package serve

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/internal/otlpreceive"
)

// Defaults of a [Server].
const (
	DefaultGRPCAddr = "127.0.0.1:4317"
	DefaultHTTPAddr = "127.0.0.1:4318"
	// DefaultMaxRequestBytes bounds one export request, compressed and
	// decompressed: gRPC's own default message size.
	DefaultMaxRequestBytes = 4 << 20
	// expireEvery is how often idle traces are looked for.
	expireEvery = time.Second
)

// Config configures a [Server]. Empty addresses mean the defaults; an
// address of "-" turns that listener off.
type Config struct {
	GRPCAddr, HTTPAddr string
	// MaxRequestBytes bounds one request (DefaultMaxRequestBytes when 0).
	MaxRequestBytes int
	// Title names the page ("flowtrace" when empty).
	Title string
}

// Server is a running `flowtrace serve`.
type Server struct {
	cfg      Config
	core     *live.Core
	otlp     *otlpreceive.Handler
	grpcLis  net.Listener
	httpLis  net.Listener
	grpcSrv  *grpc.Server
	httpSrv  *http.Server
	stop     chan struct{}
	wg       sync.WaitGroup
	shutdown sync.Once
}

// Start listens and serves core until Shutdown.
func Start(core *live.Core, cfg Config) (*Server, error) {
	if cfg.GRPCAddr == "" {
		cfg.GRPCAddr = DefaultGRPCAddr
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = DefaultHTTPAddr
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.Title == "" {
		cfg.Title = "flowtrace"
	}
	s := &Server{cfg: cfg, core: core, stop: make(chan struct{})}
	s.otlp = &otlpreceive.Handler{
		MaxRequestBytes: cfg.MaxRequestBytes,
		Accept:          s.accept,
		TooLarge:        func() { core.Reject("limit", 0) },
		Undecodable:     func() { core.Reject("decode", 0) },
	}
	if cfg.HTTPAddr != "-" {
		lis, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return nil, err
		}
		s.httpLis = lis
	}
	if cfg.GRPCAddr != "-" {
		lis, err := net.Listen("tcp", cfg.GRPCAddr)
		if err != nil {
			if s.httpLis != nil {
				s.httpLis.Close()
			}
			return nil, err
		}
		s.grpcLis = lis
	}
	if s.httpLis != nil {
		s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			MaxHeaderBytes: 64 << 10}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = s.httpSrv.Serve(s.httpLis)
		}()
	}
	if s.grpcLis != nil {
		s.grpcSrv = otlpreceive.NewGRPCServer(cfg.MaxRequestBytes, s.otlp)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = s.grpcSrv.Serve(s.grpcLis)
		}()
	}
	s.wg.Add(1)
	go s.expire()
	return s, nil
}

func (s *Server) expire() {
	defer s.wg.Done()
	t := time.NewTicker(expireEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.core.Expire()
		case <-s.stop:
			return
		}
	}
}

// HTTPAddr and GRPCAddr are the listeners' addresses ("" when off).
func (s *Server) HTTPAddr() string {
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}

// GRPCAddr is the OTLP/gRPC listener's address ("" when off).
func (s *Server) GRPCAddr() string {
	if s.grpcLis == nil {
		return ""
	}
	return s.grpcLis.Addr().String()
}

// Shutdown stops the listeners (waiting for requests in flight until ctx
// ends) and analyses the traces still held.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.shutdown.Do(func() {
		close(s.stop)
		if s.httpSrv != nil {
			err = s.httpSrv.Shutdown(ctx)
		}
		if s.grpcSrv != nil {
			done := make(chan struct{})
			go func() { s.grpcSrv.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				s.grpcSrv.Stop()
				<-done
			}
		}
		s.wg.Wait()
		s.core.Flush()
	})
	return err
}

// Handler serves the HTTP endpoints (without a listener of its own).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/traces", s.otlp)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", live.ContentType)
		_ = s.core.Snapshot().WriteText(w)
	})
	mux.HandleFunc("GET /graph.svg", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = io.WriteString(w, Diagram(s.core.Snapshot()))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		_ = writePage(w, s.cfg.Title, s.core.Snapshot(), s.core.SLOs())
	})
	return mux
}

// accept converts a request's spans and adds them to the core; spans
// that cannot be converted refuse the request.
func (s *Server) accept(_ context.Context, td ptrace.Traces) (otlpreceive.PartialSuccess, error) {
	spans, err := source.FromPtrace(td)
	if err != nil {
		s.core.Reject("decode", td.SpanCount())
		return otlpreceive.PartialSuccess{}, err
	}
	s.core.Add(spans)
	return otlpreceive.PartialSuccess{}, nil
}
