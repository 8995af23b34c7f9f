package tracekafka

import (
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/propagation"
)

// Compile-time check: formats that must see duplicated headers (W3C
// traceparent) get every value through Values.
var _ propagation.MultiValueCarrier = (*HeaderCarrier)(nil)

// HeaderCarrier adapts the headers of a kafka.Message to
// propagation.Carrier and opentracing.TextMapReader/Writer. Keys match
// case-insensitively. Set replaces every header of that key (whatever its
// case) with one header, so a retried message never carries a header twice.
//
// The first Set copies the slice before changing it: kafka.Message is a
// value, and copies of one message share the backing array of Headers, so
// writing in place (or appending into spare capacity) would change, or add
// headers to, messages the caller still holds. Reads never copy.
type HeaderCarrier struct {
	h      *[]kafka.Header
	copied bool
	// vals holds the header values as strings, built on the first read and
	// dropped by Set: propagators read several keys, and converting each
	// value once saves an allocation per key and format.
	vals []string
}

func (c *HeaderCarrier) values() []string {
	if c.vals == nil && len(*c.h) > 0 {
		c.vals = make([]string, len(*c.h))
		for i, h := range *c.h {
			c.vals[i] = string(h.Value)
		}
	}
	return c.vals
}

// NewHeaderCarrier returns a carrier over *h. Set replaces *h by a new
// slice on first use; the slice *h held before is never modified.
func NewHeaderCarrier(h *[]kafka.Header) *HeaderCarrier {
	if h == nil {
		h = new([]kafka.Header)
	}
	return &HeaderCarrier{h: h}
}

// Headers returns the current headers.
func (c *HeaderCarrier) Headers() []kafka.Header { return *c.h }

// Get returns the value of the first header named key (any case), or "".
func (c *HeaderCarrier) Get(key string) string {
	for i, h := range *c.h {
		if strings.EqualFold(h.Key, key) {
			return c.values()[i]
		}
	}
	return ""
}

// Values returns the values of every header named key (any case).
func (c *HeaderCarrier) Values(key string) []string {
	first, n := -1, 0
	for i, h := range *c.h {
		if strings.EqualFold(h.Key, key) {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	switch {
	case n == 0:
		return nil
	case n == 1:
		// The usual case: a view of the cache, capacity-limited so that an
		// append by the caller cannot write into it.
		return c.values()[first : first+1 : first+1]
	}
	vals := c.values()
	out := make([]string, 0, n)
	for i, h := range *c.h {
		if strings.EqualFold(h.Key, key) {
			out = append(out, vals[i])
		}
	}
	return out
}

// Set replaces all headers named key (any case) by one header key=value,
// at the position of the first one, or appends it.
func (c *HeaderCarrier) Set(key, value string) {
	c.vals = nil
	if !c.copied {
		old := *c.h
		// Room for the few headers a propagator writes, so that injecting
		// allocates once.
		n := make([]kafka.Header, len(old), len(old)+4)
		copy(n, old)
		*c.h = n
		c.copied = true
	}
	hs := *c.h
	found := false
	out := hs[:0]
	for _, h := range hs {
		if strings.EqualFold(h.Key, key) {
			if found {
				continue
			}
			found = true
			h = kafka.Header{Key: key, Value: []byte(value)}
		}
		out = append(out, h)
	}
	// Clear the tail left by removed duplicates (our own copy).
	for i := len(out); i < len(hs); i++ {
		hs[i] = kafka.Header{}
	}
	if !found {
		out = append(out, kafka.Header{Key: key, Value: []byte(value)})
	}
	*c.h = out
}

// Keys returns each header name once (the first spelling met).
func (c *HeaderCarrier) Keys() []string {
	out := make([]string, 0, len(*c.h))
next:
	for _, h := range *c.h {
		for _, k := range out {
			if strings.EqualFold(k, h.Key) {
				continue next
			}
		}
		out = append(out, h.Key)
	}
	return out
}

// ForeachKey implements opentracing.TextMapReader, for tracers other than
// flowtrace's: every header is visited, duplicates included.
func (c *HeaderCarrier) ForeachKey(handler func(key, val string) error) error {
	for _, h := range *c.h {
		if err := handler(h.Key, string(h.Value)); err != nil {
			return err
		}
	}
	return nil
}
