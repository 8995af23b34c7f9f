package tracegrpc

import (
	"context"
	"errors"
	"strings"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// Tag keys the interceptors write. The rpc.* names follow the OpenTelemetry
// RPC conventions; component and peer.address the OpenTracing ones.
const (
	TagRPCSystem         = "rpc.system"           // "grpc"
	TagRPCService        = "rpc.service"          // "package.Service"
	TagRPCMethod         = "rpc.method"           // "Method"
	TagGRPCStatusCode    = "rpc.grpc.status_code" // int: the numeric codes.Code
	TagPeerAddress       = "peer.address"         // server: remote address; client: cc.Target()
	TagCriticalOperation = "critical_operation"   // also a baggage item
	// TagFlowIDInvalid holds, sanitised, an invalid incoming flow id that the
	// server replaced.
	TagFlowIDInvalid = "flow_id.invalid"
	// TagFlowIDIncoming holds, sanitised, the flow id an untrusted caller sent
	// to a public endpoint.
	TagFlowIDIncoming = "flow_id.incoming"
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

// startSpanTags sets the tags common to client and server spans.
func (c *config) startSpanTags(span opentracing.Span, service, method, peerAddr string) {
	span.SetTag(string(ext.Component), "grpc")
	span.SetTag(TagRPCSystem, "grpc")
	if service != "" {
		span.SetTag(TagRPCService, service)
		span.SetTag(TagRPCMethod, method)
	}
	if peerAddr != "" {
		span.SetTag(TagPeerAddress, peerAddr)
	}
}

// setFlowAndCritical puts the flow id (and the critical operation, when the
// option names one) into the span's baggage and tags.
func (c *config) setFlowAndCritical(span opentracing.Span, id, fullMethod string) {
	if span.BaggageItem(flowid.BaggageKey) != id {
		span.SetBaggageItem(flowid.BaggageKey, id)
	}
	span.SetTag(flowid.BaggageKey, id)
	if c.critical != nil {
		if op := c.critical(fullMethod); op != "" {
			span.SetBaggageItem(TagCriticalOperation, op)
			span.SetTag(TagCriticalOperation, op)
		}
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
	span.SetTag(TagGRPCStatusCode, int(code))
	if c.isError(code, server) {
		ext.Error.Set(span, true)
		span.LogFields(log.String("event", "error"), log.String("message", code.String()+": "+st.Message()))
	}
	span.Finish()
}

// messageEvent logs one sent or received message.
func messageEvent(span opentracing.Span, typ string, id int, m any) {
	fields := [4]log.Field{
		log.String("event", "message"),
		log.String("message.type", typ),
		log.Int("message.id", id),
	}
	n := 3
	switch v := m.(type) {
	case proto.Message:
		fields[3] = log.Int("message.uncompressed_size", proto.Size(v))
		n = 4
	case []byte:
		fields[3] = log.Int("message.uncompressed_size", len(v))
		n = 4
	case *[]byte:
		if v != nil {
			fields[3] = log.Int("message.uncompressed_size", len(*v))
			n = 4
		}
	}
	span.LogFields(fields[:n]...)
}

const (
	msgSent     = "SENT"
	msgReceived = "RECEIVED"
)
