package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
)

// catalogHandler serves prices: GET /price?item=I.
func catalogHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /price", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond) // a database lookup, in a real shop
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"cents":1250}`)
	})
	return tracehttp.NewHandler(mux)
}
