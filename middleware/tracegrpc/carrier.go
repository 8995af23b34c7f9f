package tracegrpc

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/opentracing/opentracing-go"
	"google.golang.org/grpc/metadata"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// MaxValueLen is the longest metadata value MetadataCarrier reads or
// writes, in bytes: the W3C baggage limit, far above any traceparent,
// tracestate or flow id. Longer values are treated as absent.
const MaxValueLen = 8192

// Compile-time checks: MetadataCarrier serves flowtrace's propagators and
// any other OpenTracing tracer.
var (
	_ propagation.MultiValueCarrier = MetadataCarrier(nil)
	_ propagation.MultiValueCarrier = incomingCarrier{}
	_ opentracing.TextMapReader     = MetadataCarrier(nil)
	_ opentracing.TextMapWriter     = MetadataCarrier(nil)
)

// MetadataCarrier adapts gRPC metadata to [propagation.Carrier] (and to
// opentracing.TextMapReader/TextMapWriter for other tracers).
//
// Keys are lower-cased, as gRPC requires. Only what grpc-go accepts on the
// wire is read or written: a key must be [0-9a-z_.-]; binary "-bin" keys and
// pseudo-headers are ignored; a value must be printable ASCII (0x20-0x7E)
// of at most [MaxValueLen] bytes. Get, Values, Keys and ForeachKey skip
// values that break these rules (a hostile client can send bytes 0x80-0xFF,
// which HTTP/2 allows and gRPC does not); Set drops them, removing the
// key's earlier values; the interceptors count each drop for their tracer
// (tracer.EdgeStats.DroppedValues, in flowtrace's Tracing.Stats).
//
// Set replaces the key's values and changes the MD it wraps: wrap a copy,
// never metadata the caller still holds.
type MetadataCarrier metadata.MD

// Get returns the first valid value of key, or "".
func (c MetadataCarrier) Get(key string) string { return firstValid(c.raw(key)) }

// Values returns the valid values of key. When all are valid the slice is
// the metadata's own: callers must not change it.
func (c MetadataCarrier) Values(key string) []string { return validValues(c.raw(key)) }

// validValues returns vs without the values grpc-go would reject; vs itself
// when all are valid.
func validValues(vs []string) []string {
	for i, v := range vs {
		if !validValue(v) {
			out := append([]string(nil), vs[:i]...)
			for _, v := range vs[i+1:] {
				if validValue(v) {
					out = append(out, v)
				}
			}
			return out
		}
	}
	return vs
}

// firstValid returns the first value of vs grpc-go would accept, or "".
func firstValid(vs []string) string {
	for _, v := range vs {
		if validValue(v) {
			return v
		}
	}
	return ""
}

// Set replaces the values of key with value. An invalid key is dropped; an
// invalid value removes the key's earlier values and is dropped.
func (c MetadataCarrier) Set(key, value string) {
	if k := lower(key); validKey(k) && validValue(value) {
		c[k] = []string{value}
	} else if validKey(k) {
		delete(c, k)
	}
}

// countingCarrier is the interceptors' outgoing carrier, used by pointer
// (handing it to Inject as both carriers boxes nothing). It reads the copy
// of the caller's metadata (nil: none), collects the writes as key, value
// pairs in kv and counts what Set drops into the tracer's edge counters.
type countingCarrier struct {
	MetadataCarrier
	dropped *atomic.Uint64
	kv      []string // over pairs
	pairs   [8]string
}

func (c *countingCarrier) Set(key, value string) {
	k, i := lower(key), 0
	for i < len(c.kv) && c.kv[i] != k {
		i += 2
	}
	switch {
	case !validKey(k):
		c.dropped.Add(1)
	case !validValue(value):
		delete(c.MetadataCarrier, k)
		c.kv = append(c.kv[:i], c.kv[min(i+2, len(c.kv)):]...)
		c.dropped.Add(1)
	case i == len(c.kv):
		c.kv = append(c.kv, k, value)
	default:
		c.kv[i+1] = value
	}
}

// context returns ctx with the pairs as its outgoing metadata: as they are
// when the caller had none (no map to build), else replacing in the copy.
func (c *countingCarrier) context(ctx context.Context) context.Context {
	if c.MetadataCarrier == nil {
		return metadata.AppendToOutgoingContext(ctx, c.kv...)
	}
	for i := 0; i < len(c.kv); i += 2 {
		c.MetadataCarrier[c.kv[i]] = c.kv[i+1 : i+2 : i+2]
	}
	return metadata.NewOutgoingContext(ctx, metadata.MD(c.MetadataCarrier))
}

// Keys returns the keys that have at least one valid value: those
// ForeachKey visits, each once (it visits a key's values in a row).
func (c MetadataCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	_ = c.ForeachKey(func(k, _ string) error {
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
		return nil
	})
	return out
}

// ForeachKey implements opentracing.TextMapReader: it calls handler for
// every valid key and value, and stops at the first error.
func (c MetadataCarrier) ForeachKey(handler func(key, val string) error) error {
	for k, vs := range c {
		if !validKey(k) {
			continue
		}
		for _, v := range vs {
			if !validValue(v) {
				continue
			}
			if err := handler(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c MetadataCarrier) raw(key string) []string {
	if vs, ok := c[key]; ok {
		if validKey(key) {
			return vs
		}
		return nil
	}
	k := lower(key)
	if k == key || !validKey(k) {
		return nil
	}
	return c[k]
}

// validKey reports whether k is a non-binary metadata key grpc-go accepts.
func validKey(k string) bool {
	if k == "" || strings.HasSuffix(k, "-bin") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// validValue reports whether v is printable ASCII of at most MaxValueLen
// bytes.
func validValue(v string) bool {
	if len(v) > MaxValueLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// lower lower-cases ASCII letters, allocating only when there is one.
// flowtrace's flow-id format asks for X-Flow-ID on every call: that one is
// answered without allocating.
func lower(s string) string {
	if s == flowid.Header {
		return flowid.MetadataKey
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// incomingCarrier reads a server's incoming metadata key by key, without
// the copy of all of it that metadata.FromIncomingContext makes; only Keys
// (wanted by formats with key prefixes, such as Jaeger's uberctx-) copies.
// It is read-only, with the same validation as MetadataCarrier; the
// values of x-flow-id, which the server reads anyway, are read once.
type incomingCarrier struct {
	ctx  context.Context
	flow []string
}

func (c incomingCarrier) raw(key string) []string {
	if k := lower(key); k == flowid.MetadataKey {
		return c.flow
	} else if validKey(k) {
		return metadata.ValueFromIncomingContext(c.ctx, k)
	}
	return nil
}

func (c incomingCarrier) Get(key string) string { return firstValid(c.raw(key)) }

func (c incomingCarrier) Values(key string) []string { return validValues(c.raw(key)) }

func (c incomingCarrier) Set(string, string) {}

func (c incomingCarrier) Keys() []string {
	md, _ := metadata.FromIncomingContext(c.ctx)
	return MetadataCarrier(md).Keys()
}
