package tracekafka

import (
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
)

// state is a sampled context with a flow-id baggage member, what the
// Writer injects into every message.
func state(b byte) propagation.State {
	return propagation.State{
		SpanContext: propagation.SpanContext{TraceID: propagation.TraceID{b, 1}, SpanID: propagation.SpanID{b, 2}, Flags: 1},
		Baggage:     propagation.NewBaggage(propagation.Member{Key: "flow_id", Value: "flow-" + string('a'+b)}),
	}
}

func inject(c *HeaderCarrier, s propagation.State) {
	propagation.TraceContext{}.Inject(s, c)
	propagation.W3CBaggage{}.Inject(s, c)
	c.Set("X-Flow-ID", "flow-"+string('a'+s.SpanContext.TraceID[0]))
}

// TestArenaKeepsMessagesApart: the Writer's messages share one arena for
// their header slices and values; each message still has headers of its
// own, which a later injection or an append by the caller does not touch.
func TestArenaKeepsMessagesApart(t *testing.T) {
	t.Parallel()
	shared := []kafka.Header{{Key: "app", Value: []byte("v")}}
	a := &arena{hdrs: make([]kafka.Header, 0, 10), b: make([]byte, 0, 2*injectedBytes), vals: make([]string, 0, 10)}
	m1, m2 := shared, shared
	c1, c2 := &HeaderCarrier{h: &m1}, &HeaderCarrier{h: &m2}
	c1.use(a)
	c2.use(a)
	inject(c1, state(1))
	inject(c2, state(2))

	want := func(b byte) map[string]string {
		return map[string]string{
			"app":         "v",
			"traceparent": propagation.FormatTraceparent(state(b).SpanContext),
			"baggage":     propagation.FormatBaggage(state(b).Baggage),
			"X-Flow-ID":   "flow-" + string('a'+b),
		}
	}
	got := func(hs []kafka.Header) map[string]string {
		out := map[string]string{}
		for _, h := range hs {
			out[h.Key] = string(h.Value)
		}
		return out
	}
	require.Equal(t, want(1), got(m1))
	require.Equal(t, want(2), got(m2))
	require.Equal(t, []kafka.Header{{Key: "app", Value: []byte("v")}}, shared, "the caller's slice is not changed")
	require.Equal(t, []string{"flow-b"}, c1.Values("x-flow-id"))
	require.Equal(t, []string{"flow-c"}, c2.Values("x-flow-id"))

	// An append to one message's value or header slice copies.
	m1[1].Value = append(m1[1].Value, "-more"...)
	m1 = append(m1, kafka.Header{Key: "extra"}, kafka.Header{Key: "extra2"})
	require.Equal(t, want(2), got(m2))
}

// TestCarrierCacheAfterDuplicates: a Set that removes duplicates moves the
// headers after them; values read before stay right.
func TestCarrierCacheAfterDuplicates(t *testing.T) {
	t.Parallel()
	hs := []kafka.Header{{Key: "a", Value: []byte("1")}, {Key: "A", Value: []byte("2")}, {Key: "b", Value: []byte("3")}}
	c := NewHeaderCarrier(&hs)
	require.Equal(t, []string{"1", "2"}, c.Values("a"))
	require.Equal(t, "3", c.Get("b"))
	c.Set("a", "x")
	require.Equal(t, "3", c.Get("b"))
	require.Equal(t, []string{"x"}, c.Values("A"))
	c.SetBytes("b", append(c.Buffer(4), "four"...))
	require.Equal(t, "four", c.Get("b"))
	require.Len(t, c.Headers(), 2)
}

// TestArenaFull: values that do not fit the arena get memory of their own.
func TestArenaFull(t *testing.T) {
	t.Parallel()
	a := &arena{b: make([]byte, 0, 8)}
	var hs []kafka.Header
	c := &HeaderCarrier{h: &hs}
	c.use(a)
	c.Set("k1", "12345")
	c.SetBytes("k2", append(c.Buffer(55), "0123456789"...))
	c.SetBytes("k3", append(c.Buffer(2), "toolong"...)) // grows out of the arena
	require.Equal(t, "12345", c.Get("k1"))
	require.Equal(t, "0123456789", c.Get("k2"))
	require.Equal(t, "toolong", c.Get("k3"))
	require.Equal(t, "12345", string(a.b), "only the first value was taken from the arena")
}
