package tracekafka

import (
	"strings"
	"sync"

	"github.com/segmentio/kafka-go"

	"github.com/flowtrace/flowtrace/internal/slab"
	"github.com/flowtrace/flowtrace/propagation"
)

// Compile-time checks: formats that must see duplicated headers (W3C
// traceparent) get every value through Values, and the W3C formats write
// bytes without a string in between.
var (
	_ propagation.MultiValueCarrier = (*HeaderCarrier)(nil)
	_ propagation.BytesCarrier      = (*HeaderCarrier)(nil)
)

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
	// vals caches header values as strings by index, for the first 64
	// headers (bit i of have: vals[i] is set): propagators read several
	// keys, and converting each value once saves an allocation per key and
	// format. Only the headers read are converted, and a value Set writes
	// is cached as the string it was given.
	vals   []string
	have   uint64
	inline [4]string // vals for messages of up to 4 headers
	// The Writer's arena, when set (use), backs the copied header slice,
	// the cache and the values Set writes; nil slabs allocate.
	hdrSlab *slab.Slab[kafka.Header]
	own     []kafka.Header // extract's
	valSlab *slab.Slab[string]
	bytSlab *slab.Slab[byte]
}

// arena backs the copied header slices and the injected values of one
// WriteMessages call (package internal/slab): injecting into a message
// then allocates nothing.
type arena struct {
	hdrs slab.Slab[kafka.Header]
	b    slab.Slab[byte]
	vals slab.Slab[string]
}

// use makes the carrier take its header slice and values from a.
func (c *HeaderCarrier) use(a *arena) { c.hdrSlab, c.valSlab, c.bytSlab = &a.hdrs, &a.vals, &a.b }

// value returns header i's value as a string.
func (c *HeaderCarrier) value(i int) string {
	hs := *c.h
	if i >= 64 {
		return string(hs[i].Value)
	}
	if c.have&(1<<i) == 0 && (c.have != 0 || !c.convertAll()) {
		c.cache(i, string(hs[i].Value))
	}
	return c.vals[i]
}

// maxConvertAll bounds the headers convertAll turns into one string: a
// value kept from it (a flow id) keeps the whole string alive.
const maxConvertAll = 512

// convertAll caches the values of the first 64 headers with one allocation
// (a consumer reads three or four of them), unless they are large.
func (c *HeaderCarrier) convertAll() bool {
	hs := (*c.h)[:min(len(*c.h), 64)]
	total := 0
	for _, h := range hs {
		total += len(h.Value)
	}
	if total > maxConvertAll {
		return false
	}
	var b strings.Builder
	b.Grow(total)
	for _, h := range hs {
		b.Write(h.Value)
	}
	all := b.String()
	for i, h := range hs {
		c.cache(i, all[:len(h.Value)])
		all = all[len(h.Value):]
	}
	return true
}

// cache records v as header i's value (i < 64).
func (c *HeaderCarrier) cache(i int, v string) {
	if i >= len(c.vals) {
		var n []string
		if l := min(max(cap(*c.h), i+1), 64); c.vals == nil && l <= len(c.inline) {
			n = c.inline[:l:l]
		} else {
			n = c.valSlab.Take(l, l)
		}
		copy(n, c.vals)
		c.vals = n
	}
	c.vals[i] = v
	c.have |= 1 << i
}

// readers recycles extract's carriers; h points to own, a copy of the
// message's slice header, so that the message stays on its caller's stack.
var readers = sync.Pool{New: func() any { return new(HeaderCarrier) }}

// release clears c and returns it to readers: nothing may use it, or a
// slice Values returned, afterwards.
func (c *HeaderCarrier) release() { *c = HeaderCarrier{}; readers.Put(c) }

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
			return c.value(i)
		}
	}
	return ""
}

// Values returns the values of every header named key (any case).
func (c *HeaderCarrier) Values(key string) []string {
	var out []string
	for i, h := range *c.h {
		switch {
		case !strings.EqualFold(h.Key, key):
		case out == nil && i < 64:
			// The usual case, one value: a view of the cache,
			// capacity-limited so that an append (by the caller, or for
			// a second value) copies instead of writing into it.
			c.value(i)
			out = c.vals[i : i+1 : i+1]
		default:
			out = append(out, c.value(i))
		}
	}
	return out
}

// Set replaces all headers named key (any case) by one header key=value,
// at the position of the first one, or appends it.
func (c *HeaderCarrier) Set(key, value string) {
	v := c.bytSlab.Take(len(value), len(value))
	copy(v, value)
	if at := c.set(key, v); at < 64 {
		c.cache(at, value)
	}
}

// Buffer returns room for a value of n bytes, from the Writer's arena
// when there is one (propagation.BytesCarrier).
func (c *HeaderCarrier) Buffer(n int) []byte { return c.bytSlab.Free(n) }

// SetBytes is Set with the value as bytes, an append to the last Buffer,
// which it keeps: the W3C formats write through it without making a
// string first (propagation.BytesCarrier).
func (c *HeaderCarrier) SetBytes(key string, value []byte) {
	if at := c.set(key, c.bytSlab.Keep(value)); at < 64 {
		c.have &^= 1 << at // converted again when read
	}
}

// set writes the header key=v (v the carrier's own copy) and returns its
// index.
func (c *HeaderCarrier) set(key string, v []byte) int {
	if !c.copied {
		old := *c.h
		// Room for the few headers a propagator writes, so that injecting
		// allocates once.
		n := c.hdrSlab.Take(len(old), len(old)+4)
		copy(n, old)
		*c.h = n
		c.copied = true
	}
	hs := *c.h
	at := -1
	out := hs[:0]
	for _, h := range hs {
		if strings.EqualFold(h.Key, key) {
			if at >= 0 {
				continue
			}
			at = len(out)
			h = kafka.Header{Key: key, Value: v}
		}
		out = append(out, h)
	}
	if len(out) < len(hs) {
		// Removed duplicates moved the headers after them: the cache's
		// indexes no longer hold. Clear the tail (our own copy).
		c.have = 0
		for i := len(out); i < len(hs); i++ {
			hs[i] = kafka.Header{}
		}
	}
	if at < 0 {
		at = len(out)
		out = append(out, kafka.Header{Key: key, Value: v})
	}
	*c.h = out
	return at
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
