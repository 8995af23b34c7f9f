package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/examples/workshop/shopkit"
)

// edgeHandler is the shop's public API: POST /checkout?user=U&tier=T.
func edgeHandler() http.Handler {
	client := &http.Client{Timeout: 5 * time.Second}
	catalog := "http://" + os.Getenv(shopkit.EnvCatalogAddr)
	cart, err := grpc.NewClient(os.Getenv(shopkit.EnvCartAddr),
		grpc.WithTransportCredentials(insecure.NewCredentials()), shopkit.JSON)
	if err != nil {
		panic(err) // only for a malformed address
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")

		resp, err := client.Get(catalog + "/price?item=book")
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

		total := computeTotal(price.Cents, 2)

		var reply shopkit.CheckoutReply
		req := &shopkit.CheckoutRequest{User: user, Item: "book", Quantity: 2, Total: total}
		if err := cart.Invoke(r.Context(), shopkit.CartCheckout, req, &reply); err != nil {
			http.Error(w, "cart: "+status.Convert(err).Message(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"order_id\":%q,\"total\":%d}\n", reply.OrderID, total)
	})
	return mux
}

// computeTotal is the edge's own work: quantity times price, plus shipping.
func computeTotal(cents, quantity int) int {
	time.Sleep(2 * time.Millisecond) // pretend this is expensive
	return cents*quantity + 499
}
