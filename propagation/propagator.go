package propagation

// State is what propagators carry across a process boundary: the span
// context and the baggage (which holds the flow id as the "flow_id" member).
type State struct {
	SpanContext SpanContext
	Baggage     Baggage
}

// Propagator reads and writes State in a carrier in one wire format.
//
// Extract never fails loudly: input it cannot parse leaves s unchanged. A
// trace-context format sets s.SpanContext only when it is not valid yet, so
// the first format in a composite that yields a valid context wins; baggage
// formats merge members into s.Baggage.
type Propagator interface {
	Inject(s State, c Carrier)
	Extract(c Carrier, s State) State
	// Fields lists the carrier keys the format reads and writes.
	Fields() []string
}

// Carrier is a key/value transport such as HTTP headers, gRPC metadata or
// Kafka message headers. Get matches keys the way the transport does (HTTP
// and gRPC: case-insensitively). Set replaces earlier values of key, so that a
// retried request does not carry a header twice.
type Carrier interface {
	Get(key string) string
	Set(key, value string)
	Keys() []string
}

// MultiValueCarrier is a Carrier whose transport can hold several values
// (HTTP header field lines) for one key. Formats whose rules depend on the
// number of field lines (W3C traceparent, tracestate) use Values when the
// carrier has it.
type MultiValueCarrier interface {
	Carrier
	Values(key string) []string
}

// BytesCarrier is a Carrier that stores values as bytes (Kafka message
// headers). The W3C formats append the value into a buffer the carrier
// gives them and hand it back with SetBytes, instead of making a string
// only for the carrier to copy it.
type BytesCarrier interface {
	Carrier
	// Buffer returns an empty slice with room for n bytes, valid until the
	// next Buffer call.
	Buffer(n int) []byte
	// SetBytes is Set with the value as bytes: an append to the last
	// Buffer (or a slice that grew out of it), which the carrier keeps.
	SetBytes(key string, value []byte)
}
