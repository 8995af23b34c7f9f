// Package shopkit is the workshop shop's plumbing that nobody edits during
// the workshop: the messages its services exchange and a gRPC service
// description that speaks JSON, so the cart is a real gRPC server (HTTP/2,
// metadata, status codes) without a protoc step.
package shopkit

import (
	"context"
	"encoding/json"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// Environment the workshop checker gives each service process.
const (
	EnvRole        = "SHOP_ROLE"          // edge, catalog, cart or payment
	EnvCatalogAddr = "SHOP_CATALOG_ADDR"  // host:port of the catalog (HTTP)
	EnvCartAddr    = "SHOP_CART_ADDR"     // host:port of the cart (gRPC)
	EnvBrokers     = "SHOP_KAFKA_BROKERS" // host:port of the Kafka broker
)

// OrdersTopic is the Kafka topic the cart publishes orders to and the
// payment service consumes.
const OrdersTopic = "orders"

// CheckoutRequest is the edge's call to the cart.
type CheckoutRequest struct {
	User     string `json:"user"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
	Total    int    `json:"total"` // cents
}

// CheckoutReply is the cart's answer.
type CheckoutReply struct {
	OrderID string `json:"order_id"`
}

// Order is the message on OrdersTopic.
type Order struct {
	ID    string `json:"id"`
	User  string `json:"user"`
	Total int    `json:"total"` // cents
}

// CartCheckout is the full gRPC method name of the cart's Checkout call.
const CartCheckout = "/shop.Cart/Checkout"

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

func init() { encoding.RegisterCodec(jsonCodec{}) }

// JSON is the client option that makes a gRPC connection use the JSON codec.
var JSON = grpc.WithDefaultCallOptions(grpc.CallContentSubtype("json"))

// CartService describes the cart's gRPC service, whose Checkout method
// calls checkout. Register it with (*grpc.Server).RegisterService(desc, nil).
func CartService(checkout func(context.Context, *CheckoutRequest) (*CheckoutReply, error)) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "shop.Cart",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Checkout",
			Handler: func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				req := new(CheckoutRequest)
				if err := dec(req); err != nil {
					return nil, err
				}
				if interceptor == nil {
					return checkout(ctx, req)
				}
				info := &grpc.UnaryServerInfo{FullMethod: CartCheckout}
				return interceptor(ctx, req, info, func(ctx context.Context, r any) (any, error) {
					return checkout(ctx, r.(*CheckoutRequest))
				})
			},
		}},
	}
}
