package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/opentracing/opentracing-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/examples/workshop/shopkit"
	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/middleware/tracehttp"
)

// edgeHandler is the shop's public API: POST /checkout?user=U&tier=T.
func edgeHandler() http.Handler {
	client := &http.Client{Transport: tracehttp.NewTransport(nil), Timeout: 5 * time.Second}
	catalog := "http://" + os.Getenv(shopkit.EnvCatalogAddr)
	cart, err := grpc.NewClient(os.Getenv(shopkit.EnvCartAddr), append(tracegrpc.DialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()), shopkit.JSON)...)
	if err != nil {
		panic(err) // only for a malformed address
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")

		// The request carries r.Context(): the client span becomes a child
		// of the server span, and its headers carry the trace on.
		preq, err := http.NewRequestWithContext(r.Context(), http.MethodGet, catalog+"/price?item=book", nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp, err := client.Do(preq)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var price struct{ Cents int }
		err = json.NewDecoder(resp.Body).Decode(&price)
		resp.Body.Close()
		if err != nil {
			http.Error(w, "catalog: "+err.Error(), http.StatusBadGateway)
			return
		}

		span, _ := opentracing.StartSpanFromContext(r.Context(), "compute-total")
		total := computeTotal(price.Cents, 2)
		span.Finish()

		var reply shopkit.CheckoutReply
		req := &shopkit.CheckoutRequest{User: user, Item: "book", Quantity: 2, Total: total}
		if err := cart.Invoke(r.Context(), shopkit.CartCheckout, req, &reply); err != nil {
			http.Error(w, "cart: "+status.Convert(err).Message(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"order_id\":%q,\"total\":%d}\n", reply.OrderID, total)
	})
	return tracehttp.NewHandler(mux)
}

// computeTotal is the edge's own work: quantity times price, plus shipping.
func computeTotal(cents, quantity int) int {
	time.Sleep(2 * time.Millisecond) // pretend this is expensive
	return cents*quantity + 499
}
