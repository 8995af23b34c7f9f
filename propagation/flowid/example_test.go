package flowid_test

import (
	"fmt"
	"net/http"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

func ExampleSanitize() {
	incoming := "abc\r\nX-Admin: true"
	if !flowid.Valid(incoming) {
		fmt.Println(flowid.Sanitize(incoming))
	}
	// Output: abc\x0d\x0aX-Admin: true
}

func ExamplePropagator() {
	h := http.Header{"X-Flow-Id": {"checkout-42"}}
	s := propagation.Default().Extract(propagation.HeaderCarrier(h), propagation.State{})
	id, _ := s.Baggage.Get(flowid.BaggageKey)
	fmt.Println(id)
	// Output: checkout-42
}
