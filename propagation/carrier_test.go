package propagation_test

import (
	"net/http"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/carriertest"
)

const tpValidExt = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

// readerWriter is a TextMapReader/TextMapWriter that is not a map.
type readerWriter struct{ kv [][2]string }

func (rw *readerWriter) Set(k, v string) {
	for i := range rw.kv {
		if rw.kv[i][0] == k {
			rw.kv[i][1] = v
			return
		}
	}
	rw.kv = append(rw.kv, [2]string{k, v})
}

func (rw *readerWriter) ForeachKey(fn func(k, v string) error) error {
	for _, p := range rw.kv {
		if err := fn(p[0], p[1]); err != nil {
			return err
		}
	}
	return nil
}

func TestCarrierConformance(t *testing.T) {
	t.Parallel()
	t.Run("propagation.HeaderCarrier", func(t *testing.T) {
		carriertest.Run(t, func() propagation.Carrier { return propagation.HeaderCarrier{} }, carriertest.CaseInsensitive())
	})
	t.Run("propagation.MapCarrier", func(t *testing.T) {
		carriertest.Run(t, func() propagation.Carrier { return propagation.MapCarrier{} }, carriertest.CaseInsensitive())
	})
	t.Run("HTTPHeadersCarrier", func(t *testing.T) {
		carriertest.Run(t, func() propagation.Carrier {
			c, ok := propagation.TextMapCarrier(opentracing.HTTPHeadersCarrier(http.Header{}))
			require.True(t, ok)
			return c
		}, carriertest.CaseInsensitive())
	})
	t.Run("propagation.TextMapCarrier", func(t *testing.T) {
		carriertest.Run(t, func() propagation.Carrier {
			c, ok := propagation.TextMapCarrier(opentracing.TextMapCarrier{})
			require.True(t, ok)
			return c
		}, carriertest.CaseInsensitive())
	})
	t.Run("reader writer", func(t *testing.T) {
		carriertest.Run(t, func() propagation.Carrier {
			c, ok := propagation.TextMapCarrier(&readerWriter{})
			require.True(t, ok)
			return c
		})
	})
}

func TestCarriertestCatchesAppend(t *testing.T) {
	t.Parallel()
	// A carrier whose Set appends must fail the conformance checks.
	err := carriertest.Test(func() propagation.Carrier { return appendingCarrier{propagation.HeaderCarrier{}} })
	require.ErrorContains(t, err, "set replaces")
}

type appendingCarrier struct{ propagation.HeaderCarrier }

func (a appendingCarrier) Set(k, v string) { http.Header(a.HeaderCarrier).Add(k, v) }

func TestTextMapCarrierNoCopy(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	c, ok := propagation.TextMapCarrier(opentracing.HTTPHeadersCarrier(h))
	require.True(t, ok)
	_, isHeader := c.(propagation.HeaderCarrier)
	require.True(t, isHeader)
	c.Set("traceparent", tpValidExt)
	require.Equal(t, tpValidExt, h.Get("Traceparent"))

	m := opentracing.TextMapCarrier{}
	c, ok = propagation.TextMapCarrier(m)
	require.True(t, ok)
	c.Set("k", "v")
	require.Equal(t, "v", m["k"])

	_, ok = propagation.TextMapCarrier(42)
	require.False(t, ok)
}

func TestTextMapReaderLazy(t *testing.T) {
	t.Parallel()
	rw := &readerWriter{kv: [][2]string{{"Traceparent", tpValidExt}, {"baggage", "a=1"}, {"baggage", "b=2"}}}
	c, ok := propagation.TextMapCarrier(rw)
	require.True(t, ok)
	rw.kv = append(rw.kv, [2]string{"late", "1"}) // not collected yet: still seen
	require.Equal(t, tpValidExt, c.Get("traceparent"))
	require.Equal(t, []string{"a=1", "b=2"}, c.(propagation.MultiValueCarrier).Values("Baggage"))
	require.ElementsMatch(t, []string{"Traceparent", "baggage", "late"}, c.Keys())

	// Reader only: Set is ignored; writer only: reads are empty.
	ro, _ := propagation.TextMapCarrier(readerOnly{rw})
	ro.Set("x", "y")
	require.Equal(t, "", ro.Get("x"))
	wo, _ := propagation.TextMapCarrier(writerOnly{rw})
	wo.Set("x", "y")
	require.Equal(t, "", wo.Get("x"))
	require.Contains(t, rw.kv, [2]string{"x", "y"}, "the writer received the value")
}

type readerOnly struct{ r opentracing.TextMapReader }

func (r readerOnly) ForeachKey(fn func(k, v string) error) error { return r.r.ForeachKey(fn) }

type writerOnly struct{ w opentracing.TextMapWriter }

func (w writerOnly) Set(k, v string) { w.w.Set(k, v) }

func TestMapCarrierCase(t *testing.T) {
	m := propagation.MapCarrier{"X-Flow-ID": "a", "traceparent": "b"}
	require.Equal(t, "a", m.Get("x-flow-id"))
	require.Equal(t, "a", m.Get("X-FLOW-ID"))
	require.Equal(t, "b", m.Get("Traceparent"))
	m.Set("x-flow-id", "c")
	require.Equal(t, propagation.MapCarrier{"x-flow-id": "c", "traceparent": "b"}, m)

	allocs := testing.AllocsPerRun(100, func() { _ = m.Get("traceparent") })
	require.Zero(t, allocs)
}

func TestHeaderCarrierAllocs(t *testing.T) {
	h := propagation.HeaderCarrier{"Traceparent": {tpValidExt}, "X-Flow-Id": {"f"}}
	allocs := testing.AllocsPerRun(100, func() {
		_ = h.Get("traceparent")
		_ = h.Get("X-Flow-ID")
		_ = h.Values("baggage")
	})
	require.Zero(t, allocs)
}
