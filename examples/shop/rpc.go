package main

import (
	"context"
	"encoding/json"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// The cart and order services speak gRPC with JSON messages: a real gRPC
// hop (HTTP/2, metadata, status codes) without a protoc step.

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

func init() { encoding.RegisterCodec(jsonCodec{}) }

// callJSON is the client option that selects the codec.
var callJSON = grpc.WithDefaultCallOptions(grpc.CallContentSubtype("json"))

type cartRequest struct {
	User string `json:"user"`
	Item string `json:"item,omitempty"`
}

type cartReply struct {
	Items   int    `json:"items"`
	OrderID string `json:"order_id,omitempty"`
}

type orderRequest struct {
	User  string `json:"user"`
	Items int    `json:"items"`
}

type orderReply struct {
	OrderID string `json:"order_id"`
}

// unary builds a grpc.MethodDesc for a JSON handler func(ctx, *Req) (*Rep, error).
func unary[Req, Rep any](name string, h func(context.Context, *Req) (*Rep, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			req := new(Req)
			if err := dec(req); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, r any) (any, error) { return h(ctx, r.(*Req)) }
			if interceptor == nil {
				return call(ctx, req)
			}
			return interceptor(ctx, req, &grpc.UnaryServerInfo{FullMethod: name}, call)
		},
	}
}

func serviceDesc(service string, methods ...grpc.MethodDesc) *grpc.ServiceDesc {
	for i := range methods {
		methods[i].Handler = withFullMethod("/"+service+"/"+methods[i].MethodName, methods[i].Handler)
	}
	return &grpc.ServiceDesc{ServiceName: service, HandlerType: (*any)(nil), Methods: methods}
}

// withFullMethod gives interceptors the full method name, as generated code does.
func withFullMethod(full string, h grpc.MethodHandler) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		if interceptor == nil {
			return h(srv, ctx, dec, nil)
		}
		wrapped := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			info.FullMethod = full
			return interceptor(ctx, req, info, handler)
		}
		return h(srv, ctx, dec, wrapped)
	}
}
