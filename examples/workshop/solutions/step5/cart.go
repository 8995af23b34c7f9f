package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/examples/workshop/shopkit"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
)

// cartServer is the cart's gRPC server: Checkout publishes the order to
// Kafka for the payment service. closeCart flushes the producer.
func cartServer() (srv *grpc.Server, closeCart func()) {
	orders := tracekafka.NewWriter(&kafka.Writer{
		Addr:         kafka.TCP(os.Getenv(shopkit.EnvBrokers)),
		Topic:        shopkit.OrdersTopic,
		BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireOne,
	})
	srv = grpc.NewServer(tracegrpc.ServerOptions()...)
	srv.RegisterService(shopkit.CartService(func(ctx context.Context, req *shopkit.CheckoutRequest) (*shopkit.CheckoutReply, error) {
		id := fmt.Sprintf("o-%08x", rand.Uint32())
		body, _ := json.Marshal(shopkit.Order{ID: id, User: req.User, Total: req.Total})
		if err := orders.WriteMessages(ctx, kafka.Message{Key: []byte(id), Value: body}); err != nil {
			return nil, status.Error(codes.Unavailable, "publishing the order: "+err.Error())
		}
		return &shopkit.CheckoutReply{OrderID: id}, nil
	}), nil)
	return srv, func() { _ = orders.Close() }
}
