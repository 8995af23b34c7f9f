package tracer

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func FuzzReadBinary(f *testing.F) {
	tr := New()
	s := tr.StartSpan("seed")
	s.SetBaggageItem("k", "v")
	var buf bytes.Buffer
	require.NoError(f, writeBinary(&buf, ctxOf(s)))
	f.Add(buf.Bytes())
	f.Add([]byte{1})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := readBinary(bytes.NewReader(data))
		if err != nil {
			return
		}
		require.LessOrEqual(t, st.Baggage.Len(), maxBinaryItems)
		// What was read writes back to something that reads the same.
		sc := &SpanContext{wire: st.SpanContext, baggage: st.Baggage}
		var out bytes.Buffer
		require.NoError(t, writeBinary(&out, sc))
		again, err := readBinary(&out)
		require.NoError(t, err)
		require.Equal(t, st.SpanContext, again.SpanContext)
		require.Equal(t, st.Baggage.Members(), again.Baggage.Members())
	})
}
