package tracegrpc

import (
	"context"
	"errors"
	"strings"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/middleware/internal/instr"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/semconv/stability"
)

// OtherMethod names the span of a call whose method name is malformed or
// too long: span names must stay bounded whatever a client sends.
const OtherMethod = "_OTHER"

const maxMethodLen = 256

// splitMethod returns the span name, service and method of a full method
// "/package.Service/Method".
func splitMethod(full string) (name, service, method string) {
	if len(full) > maxMethodLen || len(full) < 4 || full[0] != '/' {
		return OtherMethod, "", ""
	}
	name = full[1:]
	i := strings.IndexByte(name, '/')
	if i <= 0 || i == len(name)-1 || strings.IndexByte(name[i+1:], '/') >= 0 {
		return OtherMethod, "", ""
	}
	for j := 0; j < len(name); j++ {
		if c := name[j]; c <= 0x20 || c >= 0x7f {
			return OtherMethod, "", ""
		}
	}
	return name, name[:i], name[i+1:]
}

// methodNames is a full method split once, with the tag values boxed once:
// strings cut from the method are not constants, and putting them in an
// interface on every call would allocate.
type methodNames struct {
	name, service, method string
	serviceTag, methodTag any
	// stableMethodTag is "Service/Method", the rpc.method of the stable
	// vocabulary.
	stableMethodTag any
}

// methodCache holds the split methods. grpc-go runs interceptors only for
// registered methods (or an UnknownServiceHandler), but a table fed by the
// wire must stay bounded whatever the server does: instr.Cache is.
var methodCache instr.Cache[*methodNames]

// methodsOf returns the names of full ("/package.Service/Method").
func methodsOf(full string) *methodNames { return methodCache.Get(full, newMethodNames) }

func newMethodNames(full string) *methodNames {
	name, service, method := splitMethod(full)
	mn := &methodNames{name: name, service: service, method: method, serviceTag: service, methodTag: method}
	if service != "" {
		mn.stableMethodTag = service + "/" + method
	}
	return mn
}

// tags returns the emitter of client or server spans' tags: legacy names,
// the rpc switch's names or both (OTEL_SEMCONV_STABILITY_OPT_IN; OpenTelemetry's
// RPC conventions are not stable yet, see package semconv/stability).
func (c *config) tags(server bool) stability.Emitter {
	return c.engine.Semconv.Emitter(stability.RPC, side(server))
}

func side(server bool) stability.Kind {
	if server {
		return stability.Server
	}
	return stability.Client
}

// startSpanTags sets the tags common to client and server spans. Under the
// rpc switch rpc.method is the fully qualified Service/Method and
// rpc.service is not set.
func (c *config) startSpanTags(span opentracing.Span, server bool, mn *methodNames, peerAddr string) {
	em := c.tags(server)
	semconv.Component.Set(span, "grpc")
	em.Set(span, semconv.RPCSystem.Key(), "grpc")
	if mn.service != "" {
		em.Set(span, semconv.RPCService.Key(), mn.serviceTag)
		if em.Stable() {
			em.Set(span, semconv.RPCMethod.Key(), mn.stableMethodTag)
		} else {
			em.Set(span, semconv.RPCMethod.Key(), mn.methodTag)
		}
	}
	if peerAddr != "" {
		// Network names follow the http switch (package semconv/stability).
		c.engine.Semconv.Emitter(stability.HTTP, side(server)).Set(span, semconv.PeerAddress.Key(), peerAddr)
	}
}

// statusOf returns the status the peer sees for err: a context error
// returned by a handler is sent as Canceled or DeadlineExceeded, as grpc-go
// itself does.
func statusOf(err error) *status.Status {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return st
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err)
	}
	return status.New(codes.Unknown, err.Error())
}

// finishSpan records the call's status on span and finishes it.
func (c *config) finishSpan(span opentracing.Span, err error, server bool) {
	code := codes.OK
	st := statusOf(err)
	if st != nil {
		code = st.Code()
	}
	c.tags(server).Set(span, semconv.RPCGRPCStatusCode.Key(), int(code))
	if c.isError(code, server) {
		instr.MarkError(span, code.String()+": "+st.Message())
	}
	span.Finish()
}

// messageEvent logs one sent or received message, with its size when it
// is known.
func messageEvent(span opentracing.Span, typ string, id int, m any) {
	size := -1
	switch v := m.(type) {
	case proto.Message:
		size = proto.Size(v)
	case []byte:
		size = len(v)
	case *[]byte:
		if v != nil {
			size = len(*v)
		}
	}
	fields := [4]log.Field{semconv.Event.Field("message"), semconv.MessageType.Field(typ), semconv.MessageID.Field(id)}
	if size < 0 {
		span.LogFields(fields[:3]...)
		return
	}
	fields[3] = semconv.MessageUncompressedSize.Field(size)
	span.LogFields(fields[:]...)
}

const (
	msgSent     = semconv.MessageTypeSent
	msgReceived = semconv.MessageTypeReceived
)
