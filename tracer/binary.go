package tracer

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/flowtrace/flowtrace/propagation"
)

// The Binary format: a version byte, the 16-byte trace id, the 8-byte span
// id, the flags byte, then uvarint-length-prefixed strings: the tracestate,
// the number of baggage members, and each member's key, value and
// properties. Input is read through a limit so a hostile stream cannot make
// the reader allocate without bound.
const (
	binaryVersion  = 1
	maxBinarySize  = 64 << 10
	maxBinaryItems = 256
)

func writeBinary(w io.Writer, sc *SpanContext) error {
	buf := make([]byte, 0, 64)
	buf = append(buf, binaryVersion)
	buf = append(buf, sc.wire.TraceID[:]...)
	buf = append(buf, sc.wire.SpanID[:]...)
	buf = append(buf, sc.wire.Flags)
	buf = appendString(buf, sc.wire.TraceState)
	buf = binary.AppendUvarint(buf, uint64(sc.baggage.Len()))
	sc.baggage.Each(func(m propagation.Member) bool {
		buf = appendString(buf, m.Key)
		buf = appendString(buf, m.Value)
		buf = appendString(buf, m.Properties)
		return true
	})
	_, err := w.Write(buf)
	return err
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func readBinary(r io.Reader) (propagation.State, error) {
	var st propagation.State
	data, err := io.ReadAll(io.LimitReader(r, maxBinarySize+1))
	if err != nil {
		return st, err
	}
	if len(data) == 0 {
		return st, errSpanContextNotFound
	}
	if len(data) > maxBinarySize {
		return st, fmt.Errorf("%w: larger than %d bytes", errBinaryCorrupt, maxBinarySize)
	}
	d := decoder{data: data}
	if v := d.byte(); v != binaryVersion {
		return st, fmt.Errorf("%w: version %d", errBinaryCorrupt, v)
	}
	copy(st.SpanContext.TraceID[:], d.bytes(16))
	copy(st.SpanContext.SpanID[:], d.bytes(8))
	st.SpanContext.Flags = d.byte()
	st.SpanContext.TraceState = d.string()
	n := d.uvarint()
	if n > maxBinaryItems {
		return propagation.State{}, fmt.Errorf("%w: %d baggage items", errBinaryCorrupt, n)
	}
	members := make([]propagation.Member, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		members = append(members, propagation.Member{Key: d.string(), Value: d.string(), Properties: d.string()})
	}
	if d.err != nil {
		return propagation.State{}, d.err
	}
	st.Baggage = propagation.NewBaggage(members...)
	return st, nil
}

type decoder struct {
	data []byte
	err  error
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || len(d.data) < n {
		d.fail()
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) byte() byte {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.data)) {
		d.fail()
		return ""
	}
	return string(d.bytes(int(n)))
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated", errBinaryCorrupt)
	}
}
