package tracekafka_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/carriertest"
	"github.com/flowtrace/flowtrace/tracer"
)

var (
	_ propagation.Carrier       = (*tracekafka.HeaderCarrier)(nil)
	_ opentracing.TextMapReader = (*tracekafka.HeaderCarrier)(nil)
	_ opentracing.TextMapWriter = (*tracekafka.HeaderCarrier)(nil)
)

func TestHeaderCarrierConformance(t *testing.T) {
	t.Parallel()
	carriertest.Run(t, func() propagation.Carrier {
		return tracekafka.NewHeaderCarrier(new([]kafka.Header))
	}, carriertest.CaseInsensitive())
	// Starting from a shared, non-empty slice with spare capacity.
	carriertest.Run(t, func() propagation.Carrier {
		backing := make([]kafka.Header, 0, 16)
		return tracekafka.NewHeaderCarrier(&backing)
	}, carriertest.CaseInsensitive())
}

func TestHeaderCarrierNeverMutatesCallerSlice(t *testing.T) {
	t.Parallel()
	orig := make([]kafka.Header, 2, 8) // spare capacity: an append would alias
	orig[0] = kafka.Header{Key: "traceparent", Value: []byte("old")}
	orig[1] = kafka.Header{Key: "TraceParent", Value: []byte("dup")}
	m1 := kafka.Message{Headers: orig}
	m2 := m1 // shares the backing array

	c := tracekafka.NewHeaderCarrier(&m1.Headers)
	c.Set("traceparent", "new")
	c.Set("X-Flow-ID", "f1")

	require.Equal(t, []kafka.Header{{Key: "traceparent", Value: []byte("old")}, {Key: "TraceParent", Value: []byte("dup")}}, m2.Headers)
	require.Equal(t, "old", string(orig[0].Value))
	require.Equal(t, kafka.Header{}, orig[:3][2], "spare capacity of the caller's slice was written")
	require.Equal(t, []kafka.Header{{Key: "traceparent", Value: []byte("new")}, {Key: "X-Flow-ID", Value: []byte("f1")}}, m1.Headers)
	require.Equal(t, []string{"traceparent", "X-Flow-ID"}, c.Keys())
}

func TestHeaderCarrierDuplicatesVisible(t *testing.T) {
	t.Parallel()
	hs := []kafka.Header{{Key: "traceparent", Value: []byte("a")}, {Key: "TRACEPARENT", Value: []byte("b")}}
	c := tracekafka.NewHeaderCarrier(&hs)
	require.Equal(t, []string{"a", "b"}, c.Values("Traceparent"))
	require.Equal(t, "a", c.Get("traceparent"))
	var n int
	require.NoError(t, c.ForeachKey(func(k, v string) error { n++; return nil }))
	require.Equal(t, 2, n)
	// A duplicated traceparent is rejected by the W3C format: no context.
	tr := tracer.New()
	_, err := tr.Extract(opentracing.TextMap, c)
	require.Error(t, err)
}

func TestSanitizeKey(t *testing.T) {
	t.Parallel()
	require.Equal(t, "order-1", tracekafka.SanitizeKey([]byte("order-1")))
	require.Equal(t, `a\x0a\x1b[31m\\`, tracekafka.SanitizeKey([]byte("a\n\x1b[31m\\")))
	long := tracekafka.SanitizeKey(bytes.Repeat([]byte{0xff}, 1000))
	require.LessOrEqual(t, len(long), tracekafka.MaxKeyTagLen)
	require.True(t, strings.HasSuffix(long, "..."))
	require.Equal(t, strings.Repeat("k", tracekafka.MaxKeyTagLen), tracekafka.SanitizeKey(bytes.Repeat([]byte("k"), tracekafka.MaxKeyTagLen)))
}

// FuzzHeaderCarrier: any header set, any Set sequence: the caller's slice is
// untouched, Set replaces (one header per key), Get sees the last Set, and
// extraction never panics.
func FuzzHeaderCarrier(f *testing.F) {
	f.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "TRACEPARENT", "x", "X-Flow-ID", "abc")
	f.Add("uber-trace-id", "1:2:0:1", "b3", "garbage", "x-flow-id", "a\nb")
	f.Add("", "", "", "", "", "")
	tr := tracer.New()
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, setK, setV string) {
		orig := make([]kafka.Header, 0, 8)
		orig = append(orig, kafka.Header{Key: k1, Value: []byte(v1)}, kafka.Header{Key: k2, Value: []byte(v2)})
		snapshot := append([]kafka.Header(nil), orig...)
		hs := orig
		c := tracekafka.NewHeaderCarrier(&hs)
		_, _ = tr.Extract(opentracing.TextMap, c)
		c.Set(setK, setV)
		c.Set(setK, setV+"2")
		require.Equal(t, snapshot, orig)
		require.Equal(t, setV+"2", c.Get(setK))
		require.Equal(t, []string{setV + "2"}, c.Values(setK))
		n := 0
		for _, k := range c.Keys() {
			if strings.EqualFold(k, setK) {
				n++
			}
		}
		require.Equal(t, 1, n)
		_, _ = tr.Extract(opentracing.TextMap, c)
		s := tracekafka.SanitizeKey([]byte(v1))
		require.True(t, utf8.ValidString(s))
		require.LessOrEqual(t, len(s), tracekafka.MaxKeyTagLen)
		for i := 0; i < len(s); i++ {
			require.True(t, s[i] >= 0x20 && s[i] < 0x7f)
		}
	})
}

// TestValuesAppendDoesNotWriteTheCache: Values hands out a view of the
// value cache for one value; appending to it, or a later value of the same
// key, copies.
func TestValuesAppendDoesNotWriteTheCache(t *testing.T) {
	t.Parallel()
	hs := []kafka.Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "c", Value: []byte("3")}, {Key: "A", Value: []byte("4")}, {Key: "a", Value: []byte("5")}}
	c := tracekafka.NewHeaderCarrier(&hs)
	one := c.Values("b")
	require.Equal(t, []string{"2", "x"}, append(one, "x"))
	require.Equal(t, "2", c.Get("b"))
	require.Equal(t, "3", c.Get("c"), "the next header's cached value is untouched")
	require.Equal(t, []string{"1", "4", "5"}, c.Values("A"))
	require.Equal(t, "1", c.Get("a"))
	require.Nil(t, c.Values("d"))
}
