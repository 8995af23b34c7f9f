package serve

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // accept gzip-compressed gRPC requests
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/source"
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
		s.grpcSrv = grpc.NewServer(grpc.MaxRecvMsgSize(cfg.MaxRequestBytes))
		ptraceotlp.RegisterGRPCServer(s.grpcSrv, &grpcService{s: s})
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
	mux.HandleFunc("/v1/traces", s.serveOTLP)
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

type grpcService struct {
	ptraceotlp.UnimplementedGRPCServer
	s *Server
}

func (g *grpcService) Export(_ context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	if err := g.s.accept(req); err != nil {
		return ptraceotlp.NewExportResponse(), status.Error(codes.InvalidArgument, err.Error())
	}
	return ptraceotlp.NewExportResponse(), nil
}

// accept converts a request's spans and adds them to the core.
func (s *Server) accept(req ptraceotlp.ExportRequest) error {
	td := req.Traces()
	spans, err := source.FromPtrace(td)
	if err != nil {
		s.core.Reject("decode", td.SpanCount())
		return err
	}
	s.core.Add(spans)
	return nil
}

const (
	contentTypeProto = "application/x-protobuf"
	contentTypeJSON  = "application/json"
)

func (s *Server) serveOTLP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	mediaType, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || (mediaType != contentTypeProto && mediaType != contentTypeJSON) {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}
	limit := int64(s.cfg.MaxRequestBytes)
	var body io.Reader = http.MaxBytesReader(w, req.Body, limit)
	switch req.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, "bad gzip body", http.StatusBadRequest)
			return
		}
		defer gz.Close()
		body = gz
	default:
		http.Error(w, "unsupported content encoding", http.StatusUnsupportedMediaType)
		return
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || int64(len(data)) > limit:
		s.core.Reject("limit", 0)
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	exp := ptraceotlp.NewExportRequest()
	if mediaType == contentTypeJSON {
		err = exp.UnmarshalJSON(data)
	} else {
		err = exp.UnmarshalProto(data)
	}
	if err != nil {
		s.core.Reject("decode", 0)
		http.Error(w, "decode request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.accept(exp); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var out []byte
	if mediaType == contentTypeJSON {
		out, err = ptraceotlp.NewExportResponse().MarshalJSON()
	} else {
		out, err = ptraceotlp.NewExportResponse().MarshalProto()
	}
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	_, _ = w.Write(out)
}
