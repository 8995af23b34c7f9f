package export

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	// Not used by flowtrace's connection (see grpcGzip); kept because
	// programs have had grpc-go's gzip registered through this package
	// since its first release, and their own gRPC servers may rely on it.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// grpcTransport calls the OTLP TraceService Export method with bytes
// encoded by the caller: the request goes out through a pass-through codec,
// the answer comes back as the generated ExportTraceServiceResponse.
type grpcTransport struct {
	conn    *grpc.ClientConn
	md      metadata.MD
	callOpt []grpc.CallOption
	retry   retryPolicy
	timeout timeoutFunc
	closed  atomic.Bool
}

var _ Transport = (*grpcTransport)(nil)

// NewOTLPGRPC returns an OTLP/gRPC transport for s; s.Protocol is ignored.
// The connection is made lazily on the first Send.
func NewOTLPGRPC(s OTLPSettings) (Transport, error) {
	p, err := s.parse()
	if err != nil {
		return nil, err
	}
	host := p.u.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(p.u.Hostname(), "4317")
	}
	creds := insecure.NewCredentials()
	if !p.insecure {
		creds = credentials.NewTLS(p.tls)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(userAgent),
		grpc.WithStatsHandler(sentMarker{}),
	}
	if p.gzip {
		// klauspost's gzip on this connection only (see grpcGzip): the
		// wire header says gzip, the process-wide "gzip" codec stays.
		//lint:ignore SA1019 the per-connection compressor is the only one that leaves the global registry alone; "supported throughout 1.x".
		opts = append(opts, grpc.WithCompressor(grpcGzip{}))
		//lint:ignore SA1019 as above, for the gzip answers.
		opts = append(opts, grpc.WithDecompressor(grpcGunzip{}))
	}
	conn, err := grpc.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("flowtrace: OTLP/gRPC client: %w", err)
	}
	t := &grpcTransport{
		conn:    conn,
		md:      metadata.New(s.Headers),
		callOpt: []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})},
		retry:   s.retry(),
		timeout: deadlineFor(s.timeout()),
	}
	return t, nil
}

func (t *grpcTransport) Send(ctx context.Context, request []byte) (Response, error) {
	if t.closed.Load() {
		return Response{}, errTransportClosed
	}
	ctx, cancel := t.timeout(ctx)
	defer cancel()
	if len(t.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, t.md)
	}
	return t.retry.do(ctx, func(ctx context.Context) attemptResult {
		sent := new(atomic.Bool)
		resp := new(coltracepb.ExportTraceServiceResponse)
		err := t.conn.Invoke(context.WithValue(ctx, sentKey{}, sent), coltracepb.TraceService_Export_FullMethodName,
			rawMessage(request), resp, t.callOpt...)
		if err == nil {
			ps := resp.GetPartialSuccess()
			return attemptResult{resp: Response{RejectedSpans: ps.GetRejectedSpans(), ErrorMessage: ps.GetErrorMessage()}}
		}
		return classifyGRPC(ctx, err, sent.Load())
	})
}

// classifyGRPC applies the OTLP specification's retry rules to an error.
func classifyGRPC(ctx context.Context, err error, sent bool) attemptResult {
	st, _ := status.FromError(err)
	delay, hasRetryInfo := retryInfo(st)
	err = fmt.Errorf("flowtrace: OTLP/gRPC export: %s: %s", st.Code(), st.Message())
	// The server times the call out too (grpc-timeout) and may reset the
	// stream a moment before the client's own deadline fires.
	if sent && (ctx.Err() != nil || (st.Code() == codes.DeadlineExceeded && deadlineNear(ctx))) {
		return attemptResult{err: fmt.Errorf("%w: %w", ErrUnconfirmed, err)}
	}
	switch st.Code() {
	case codes.ResourceExhausted:
		if hasRetryInfo {
			// Back-pressure: retry after the server's delay.
			return attemptResult{err: err, retryable: true, delay: delay}
		}
		return attemptResult{err: fmt.Errorf("%w: %w", ErrRequestTooLarge, err)}
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		return attemptResult{err: err, retryable: true, delay: delay}
	}
	return attemptResult{err: err}
}

func retryInfo(st *status.Status) (delay time.Duration, ok bool) {
	for _, d := range st.Details() {
		if ri, isRI := d.(*errdetails.RetryInfo); isRI {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

func (t *grpcTransport) Close(context.Context) error {
	if t.closed.Swap(true) {
		return nil
	}
	return t.conn.Close()
}

// rawMessage is an encoded request; rawCodec sends it as it is and decodes
// answers with protobuf.
type rawMessage []byte

type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(rawMessage)
	if !ok {
		return nil, fmt.Errorf("flowtrace: raw codec cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("flowtrace: raw codec cannot unmarshal into %T", v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

// Name is "proto": the content subtype collectors expect.
func (rawCodec) Name() string { return "proto" }

// sentMarker is a stats.Handler that marks a call's request as written, so
// a call that then times out is told apart from one that never left.
type sentMarker struct{}

type sentKey struct{}

func (sentMarker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (sentMarker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.OutPayload); ok {
		if f, ok := ctx.Value(sentKey{}).(*atomic.Bool); ok {
			f.Store(true)
		}
	}
}
func (sentMarker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (sentMarker) HandleConn(context.Context, stats.ConnStats)                       {}

// deadlineNear reports whether ctx's deadline is (nearly) reached.
func deadlineNear(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < 50*time.Millisecond
}
