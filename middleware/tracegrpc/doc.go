// Package tracegrpc traces gRPC clients and servers (google.golang.org/grpc)
// through the OpenTracing API, and carries the flow id in metadata.
//
// # Wiring
//
// One call per side installs the unary and the stream interceptors:
//
//	srv := grpc.NewServer(tracegrpc.ServerOptions(tracegrpc.WithRecovery())...)
//	conn, err := grpc.NewClient(target, append(tracegrpc.DialOptions(),
//		grpc.WithTransportCredentials(creds))...)
//
// They return slices because grpc-go seals grpc.ServerOption and
// grpc.DialOption (their method is unexported and the combinator grpc-go
// uses for its own packages is internal). [UnaryServerInterceptor],
// [StreamServerInterceptor], [UnaryClientInterceptor] and
// [StreamClientInterceptor] are there for custom chains.
//
// The tracer is [WithTracer]'s, else opentracing.GlobalTracer() read at each
// call. With flowtrace's tracer, trace context, baggage and the flow id
// travel by the tracer's propagators; with any tracer, including the no-op
// one, the middleware also reads and writes x-flow-id itself.
//
// # Server
//
// The server extracts the caller's context from the metadata and starts a
// server span named after the full method without its leading slash
// ("package.Service/Method"; a malformed or over-long method name, which
// only a server with an unknown-service handler can see, is named
// "_OTHER"). Tags: component=grpc, rpc.system=grpc, rpc.service,
// rpc.method, peer.address and, when the call ends, rpc.grpc.status_code.
// OTEL_SEMCONV_STABILITY_OPT_IN (read when the options are built) changes
// them: http (or http/dup) turns peer.address into network.peer.address and
// network.peer.port on a server, server.address and server.port on a
// client; rpc (or rpc/dup) emits rpc.system.name, the fully qualified
// rpc.method (Service/Method, also with rpc/dup: the key is shared) and
// rpc.response.status_code (NOT_FOUND). OpenTelemetry's RPC conventions are
// a Release Candidate, not stable: the rpc names may change with them.
// The span and the flow id are put into the handler's context
// (opentracing.SpanFromContext, flowid.FromContext) and the flow id is sent
// back in the x-flow-id response header.
//
// The flow id, [WithPublicEndpoint], [WithCriticalOperation],
// [WithCriticalSampling], [WithTrafficSource] and [DefaultTrafficSource]
// (the x-traffic-source metadata) follow the rules of package middleware,
// the same as tracehttp's. [WithFilter] skips the span but not the flow id.
//
// A span is an error for the status codes of [WithErrorCodes]; by default a
// server span for Unknown, DeadlineExceeded, Unimplemented, Internal,
// Unavailable and DataLoss, a client span for every code but OK. A panic in
// the handler is recorded on the span and then goes on, unless
// [WithRecovery] turns it into codes.Internal.
//
// # Client
//
// The client span is a child of the span in the call's context. The span
// context and the flow id are written into a copy of the outgoing
// metadata: the caller's metadata is never changed. Errors
// from the invoker and from streams are returned as they are, so
// status.Code, errors.Is and err == io.EOF keep working.
//
// A stream's span ends exactly once, when the stream ends: RecvMsg returns
// io.EOF or an error, the single response of a client-streaming call
// arrives (CloseAndRecv), Header, SendMsg (other than io.EOF) or CloseSend
// fail, or the call's context is done. The context is watched with
// context.AfterFunc, which starts a goroutine only when the context is done
// and is deregistered when the stream ends. As with grpc-go itself, a
// stream that is neither read to its end nor cancelled stays open.
//
// # Metadata
//
// [MetadataCarrier] adapts metadata.MD to propagation.Carrier and to the
// OpenTracing TextMap interfaces. It never writes a key or value grpc-go
// would reject, and never reads one; the interceptors count the writes they
// refuse on their tracer (see the type's documentation).
//
// # Interceptors rather than a stats.Handler
//
// Interceptors see what the application sees: the handler's own context
// (so the span and flow id reach it), its error before it becomes a status,
// its panics (which a stats.Handler never observes), and on the client one
// span per call, the caller's context and the exact errors it gets. A
// stats.Handler sees wire sizes and each retry attempt; those are not worth
// losing panic recording and per-call spans for. Message events
// ([WithMessageEvents]) record uncompressed sizes.
//
// The package reads no environment variables.
package tracegrpc
