package otlpreceive

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // lets the gRPC servers accept gzip-compressed requests
	"google.golang.org/grpc/status"
)

// Content types of OTLP/HTTP.
const (
	ContentTypeProto = "application/x-protobuf"
	ContentTypeJSON  = "application/json"
)

// PartialSuccess is what an accepted request reports back; the zero value
// is a full success (and an empty partial_success in the answer).
type PartialSuccess struct {
	RejectedSpans int64
	Message       string
}

// Handler serves POST /v1/traces and the gRPC TraceService's Export.
type Handler struct {
	ptraceotlp.UnimplementedGRPCServer

	// MaxRequestBytes bounds one HTTP request, compressed and after
	// decompression; the gRPC bound is the server's (NewGRPCServer).
	MaxRequestBytes int
	// Accept takes one decoded request's traces, which it may keep. An
	// error refuses the request: HTTP 400 with the error's text, gRPC
	// InvalidArgument.
	Accept func(ctx context.Context, td ptrace.Traces) (PartialSuccess, error)
	// TooLarge and Undecodable, when set, count the HTTP requests refused
	// for their size and those that do not decode.
	TooLarge, Undecodable func()
}

// NewGRPCServer is a gRPC server whose messages are bounded by
// maxRequestBytes, serving svc as the OTLP TraceService.
func NewGRPCServer(maxRequestBytes int, svc ptraceotlp.GRPCServer, opts ...grpc.ServerOption) *grpc.Server {
	srv := grpc.NewServer(append([]grpc.ServerOption{grpc.MaxRecvMsgSize(maxRequestBytes)}, opts...)...)
	ptraceotlp.RegisterGRPCServer(srv, svc)
	return srv
}

// Export is the gRPC TraceService's method.
func (h *Handler) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	td := ptrace.NewTraces()
	req.Traces().MoveTo(td)
	resp := ptraceotlp.NewExportResponse()
	ps, err := h.Accept(ctx, td)
	if err != nil {
		return resp, status.Error(codes.InvalidArgument, err.Error())
	}
	setPartial(resp, ps)
	return resp, nil
}

func setPartial(resp ptraceotlp.ExportResponse, ps PartialSuccess) {
	if ps != (PartialSuccess{}) {
		resp.PartialSuccess().SetRejectedSpans(ps.RejectedSpans)
		resp.PartialSuccess().SetErrorMessage(ps.Message)
	}
}

func (h *Handler) count(f func()) {
	if f != nil {
		f()
	}
}

// ServeHTTP is OTLP/HTTP's POST /v1/traces.
func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	mediaType, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || (mediaType != ContentTypeProto && mediaType != ContentTypeJSON) {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}
	limit := int64(h.MaxRequestBytes)
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
	// The compressed body is bounded by MaxBytesReader, the decompressed
	// one by reading one byte past the limit.
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || (err == nil && int64(len(data)) > limit):
		h.count(h.TooLarge)
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	exp := ptraceotlp.NewExportRequest()
	if mediaType == ContentTypeJSON {
		err = exp.UnmarshalJSON(data)
	} else {
		err = exp.UnmarshalProto(data)
	}
	if err != nil {
		h.count(h.Undecodable)
		http.Error(w, "decode request: "+err.Error(), http.StatusBadRequest)
		return
	}
	td := ptrace.NewTraces()
	exp.Traces().MoveTo(td)
	ps, err := h.Accept(req.Context(), td)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp := ptraceotlp.NewExportResponse()
	setPartial(resp, ps)
	WriteResponse(w, mediaType, resp)
}

// WriteResponse answers an OTLP/HTTP export in the request's encoding.
func WriteResponse(w http.ResponseWriter, mediaType string, resp ptraceotlp.ExportResponse) {
	var out []byte
	var err error
	if mediaType == ContentTypeJSON {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}
