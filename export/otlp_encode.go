package export

import (
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/flowtrace/flowtrace/tracer"
)

// This file encodes finished spans straight to OTLP protobuf wire bytes,
// with the conversion rules of ToOTLP and the field order proto.Marshal
// uses, so that a span is encoded once, when it finishes, and a batch is
// the resource and scope headers around the spans' bytes. The queue then
// holds pointer-free bytes the garbage collector does not scan, and the
// span object dies young. TestEncodeMatchesConverter holds the encoding to
// Converter + proto.Marshal.

// OTLP field numbers (opentelemetry/proto/trace/v1/trace.proto,
// common/v1/common.proto, resource/v1/resource.proto and
// collector/trace/v1/trace_service.proto).
const (
	fRequestResourceSpans = 1

	fResourceSpansResource   = 1
	fResourceSpansScopeSpans = 2
	fResourceAttributes      = 1

	fScopeSpansScope = 1
	fScopeSpansSpans = 2
	fScopeName       = 1
	fScopeVersion    = 2

	fSpanTraceID           = 1
	fSpanSpanID            = 2
	fSpanTraceState        = 3
	fSpanParentSpanID      = 4
	fSpanName              = 5
	fSpanKind              = 6
	fSpanStart             = 7
	fSpanEnd               = 8
	fSpanAttributes        = 9
	fSpanDroppedAttributes = 10
	fSpanEvents            = 11
	fSpanDroppedEvents     = 12
	fSpanLinks             = 13
	fSpanDroppedLinks      = 14
	fSpanStatus            = 15
	fSpanFlags             = 16

	fEventTime       = 1
	fEventName       = 2
	fEventAttributes = 3

	fLinkTraceID    = 1
	fLinkSpanID     = 2
	fLinkTraceState = 3
	fLinkAttributes = 4
	fLinkFlags      = 6

	fStatusMessage = 2
	fStatusCode    = 3

	fKVKey   = 1
	fKVValue = 2

	fAnyString = 1
	fAnyBool   = 2
	fAnyInt    = 3
	fAnyDouble = 4
	fAnyArray  = 5
	fAnyBytes  = 7

	fArrayValues = 1
)

// appendSpan appends the OTLP Span message of s (its fields, without a
// tag or length) to b.
func appendSpan(b []byte, s *tracer.SpanData) []byte {
	// The ids are fixed-size fields: built on the stack, appended at once.
	var ids [2 + 16 + 2 + 8 + 2 + 8]byte
	ids[0], ids[1] = byte(fSpanTraceID<<3|protowire.BytesType), 16
	*(*[16]byte)(ids[2:]) = s.SpanContext.TraceID
	ids[18], ids[19] = byte(fSpanSpanID<<3|protowire.BytesType), 8
	*(*[8]byte)(ids[20:]) = s.SpanContext.SpanID
	b = append(b, ids[:28]...)
	b = appendStringField(b, fSpanTraceState, s.SpanContext.TraceState)
	if s.ParentSpanID.IsValid() {
		ids[28], ids[29] = byte(fSpanParentSpanID<<3|protowire.BytesType), 8
		*(*[8]byte)(ids[30:]) = s.ParentSpanID
		b = append(b, ids[28:]...)
	}
	b = appendStringField(b, fSpanName, s.Name)
	if s.Kind != 0 {
		b = appendTag(b, fSpanKind, protowire.VarintType)
		b = appendVarint(b, uint64(int64(s.Kind)))
	}
	b = appendFixed64Field(b, fSpanStart, unixNano(s.Start))
	b = appendFixed64Field(b, fSpanEnd, unixNano(s.End))
	for i := range s.Attributes {
		b = appendKeyValue(b, fSpanAttributes, s.Attributes[i].Key, s.Attributes[i].Value)
	}
	b = appendUint32Field(b, fSpanDroppedAttributes, count(s.DroppedAttributes))
	for i := range s.Events {
		e := &s.Events[i]
		var at int
		b, at = beginMessage(b, fSpanEvents)
		b = appendFixed64Field(b, fEventTime, unixNano(e.Time))
		b = appendStringField(b, fEventName, e.Name)
		for j := range e.Attributes {
			b = appendKeyValue(b, fEventAttributes, e.Attributes[j].Key, e.Attributes[j].Value)
		}
		b = endMessage(b, at)
	}
	b = appendUint32Field(b, fSpanDroppedEvents, count(s.DroppedEvents))
	for i := range s.Links {
		l := &s.Links[i]
		var at int
		b, at = beginMessage(b, fSpanLinks)
		b = appendBytesField(b, fLinkTraceID, l.SpanContext.TraceID[:])
		b = appendBytesField(b, fLinkSpanID, l.SpanContext.SpanID[:])
		b = appendStringField(b, fLinkTraceState, l.SpanContext.TraceState)
		if l.Type != "" {
			// A string value of its own: boxing it into an any would
			// allocate.
			var kv, av int
			b, kv = beginMessage(b, fLinkAttributes)
			b = appendStringField(b, fKVKey, RefTypeKey)
			b, av = beginMessage(b, fKVValue)
			b = appendAnyString(b, l.Type)
			b = endMessage(b, av)
			b = endMessage(b, kv)
		}
		if l.SpanContext.Flags != 0 {
			b = appendTag(b, fLinkFlags, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, uint32(l.SpanContext.Flags))
		}
		b = endMessage(b, at)
	}
	b = appendUint32Field(b, fSpanDroppedLinks, count(s.DroppedLinks))
	// The converter always sets a Status, so an unset one is an empty
	// message rather than an absent one.
	var at int
	b, at = beginMessage(b, fSpanStatus)
	b = appendStringField(b, fStatusMessage, s.StatusMessage)
	if s.Status != 0 {
		b = appendTag(b, fStatusCode, protowire.VarintType)
		b = appendVarint(b, uint64(int64(s.Status)))
	}
	b = endMessage(b, at)
	if s.SpanContext.Flags != 0 {
		b = appendTag(b, fSpanFlags, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, uint32(s.SpanContext.Flags))
	}
	return b
}

// appendTag appends a field's tag; every field number here but Span.flags
// (16) fits one byte. It is small enough to inline: the wide case is a
// call of its own.
func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	if num < 16 {
		return append(b, byte(uint64(num)<<3|uint64(typ&7)))
	}
	return appendWideTag(b, num, typ)
}

//go:noinline
func appendWideTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return protowire.AppendTag(b, num, typ)
}

// appendVarint is protowire.AppendVarint with the one-byte case first:
// most lengths and counts are below 128.
func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return appendWideVarint(b, v)
}

// appendWideVarint is appendVarint past one byte, apart so that
// appendVarint inlines.
//
//go:noinline
func appendWideVarint(b []byte, v uint64) []byte {
	if v < 1<<14 {
		// A span's length in a request, a long string's.
		return append(b, byte(v)|0x80, byte(v>>7))
	}
	return protowire.AppendVarint(b, v)
}

// appendString appends a length-prefixed string.
func appendString(b []byte, v string) []byte {
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendBytes appends a length-prefixed byte string.
func appendBytes(b []byte, v []byte) []byte {
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// beginMessage starts a length-delimited field whose length is not known
// yet: one byte is reserved for it, which endMessage widens if needed.
// Every message field here has a number below 16, so its tag is one byte.
func beginMessage(b []byte, num protowire.Number) ([]byte, int) {
	b = append(b, byte(uint64(num)<<3|uint64(protowire.BytesType)), 0)
	return b, len(b)
}

// endMessage writes the length of the field begun at start (the offset
// after the reserved byte), moving the content when the length needs more
// than one byte, so the encoding stays canonical.
func endMessage(b []byte, start int) []byte {
	n := len(b) - start
	if n < 0x80 {
		b[start-1] = byte(n)
		return b
	}
	k := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, k-1)...)
	copy(b[start-1+k:], b[start:start+n])
	protowire.AppendVarint(b[:start-1], uint64(n))
	return b
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = appendTag(b, num, protowire.BytesType)
	return appendBytes(b, v)
}

// appendStringField appends a string field, made valid UTF-8 as ToOTLP
// does; proto3 leaves empty strings out.
func appendStringField(b []byte, num protowire.Number, v string) []byte {
	if v == "" {
		return b
	}
	b = appendTag(b, num, protowire.BytesType)
	if !isASCII(v) {
		v = validUTF8(v)
	}
	return appendString(b, v)
}

// isASCII reports whether s is ASCII, eight bytes at a time: keys, names
// and most values are, and utf8.ValidString costs more on short strings.
// The last word (or, below 8 bytes, the last two half-words, below 4 the
// first, middle and last bytes) overlaps the ones before instead of a
// loop over the tail's bytes.
func isASCII(s string) bool {
	n := len(s)
	switch {
	case n >= 8:
		var acc uint64
		for i := 0; i+8 <= n; i += 8 {
			acc |= le64(s[i:])
		}
		return (acc|le64(s[n-8:]))&0x8080808080808080 == 0
	case n >= 4:
		return (le32(s)|le32(s[n-4:]))&0x80808080 == 0
	case n > 0:
		// First, middle and last cover every byte of 1 to 3.
		return s[0]|s[n>>1]|s[n-1] < 0x80
	}
	return true
}

// le64 and le32 read the first bytes of s (at least 8 and 4) as one word;
// the compiler makes each a single load.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func appendFixed64Field(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}

func appendUint32Field(b []byte, num protowire.Number, v uint32) []byte {
	if v == 0 {
		return b
	}
	b = appendTag(b, num, protowire.VarintType)
	return appendVarint(b, uint64(v))
}

// appendKeyValue appends a KeyValue field with the value rules of ToOTLP.
// A short key with a short string, integer, bool or float64 value (the
// usual tag) is written with its lengths computed up front, without
// reserving and patching them.
func appendKeyValue(b []byte, num protowire.Number, key string, v any) []byte {
	if !isASCII(key) {
		key = validUTF8(key)
	}
	// The KeyValue's key field: absent for an empty key (proto3).
	head := 0
	if key != "" {
		head = 2 + len(key)
	}
	switch v := v.(type) {
	case string:
		if !isASCII(v) {
			v = validUTF8(v)
		}
		if n := head + 4 + len(v); n < 0x80 {
			b = appendKVHead(b, num, key, n)
			b = append(b, byte(fKVValue<<3|protowire.BytesType), byte(2+len(v)), byte(fAnyString<<3|protowire.BytesType), byte(len(v)))
			return append(b, v...)
		}
		return appendKeyValueSlow(b, num, key, v)
	case int:
		return appendKVInt(b, num, key, head, int64(v))
	case int64:
		return appendKVInt(b, num, key, head, v)
	case bool:
		if n := head + 4; n < 0x80 {
			b = appendKVHead(b, num, key, n)
			return append(b, byte(fKVValue<<3|protowire.BytesType), 2, byte(fAnyBool<<3|protowire.VarintType), byte(protowire.EncodeBool(v)))
		}
	case float64:
		if n := head + 11; n < 0x80 {
			b = appendKVHead(b, num, key, n)
			b = append(b, byte(fKVValue<<3|protowire.BytesType), 9, byte(fAnyDouble<<3|protowire.Fixed64Type))
			return protowire.AppendFixed64(b, math.Float64bits(v))
		}
	}
	return appendKeyValueSlow(b, num, key, v)
}

// appendKVHead appends the tag and length n of a KeyValue field and its
// key field (key is valid UTF-8, n < 128).
func appendKVHead(b []byte, num protowire.Number, key string, n int) []byte {
	b = append(b, byte(uint64(num)<<3|uint64(protowire.BytesType)), byte(n))
	if key == "" {
		return b
	}
	b = append(b, byte(fKVKey<<3|protowire.BytesType), byte(len(key)))
	return append(b, key...)
}

func appendKVInt(b []byte, num protowire.Number, key string, head int, v int64) []byte {
	k := protowire.SizeVarint(uint64(v))
	if n := head + 3 + k; n < 0x80 {
		b = appendKVHead(b, num, key, n)
		b = append(b, byte(fKVValue<<3|protowire.BytesType), byte(1+k), byte(fAnyInt<<3|protowire.VarintType))
		return appendVarint(b, uint64(v))
	}
	return appendKeyValueSlow(b, num, key, v)
}

// appendKeyValueSlow is appendKeyValue for any key and value, with the
// lengths reserved and patched.
func appendKeyValueSlow(b []byte, num protowire.Number, key string, v any) []byte {
	var kv, av int
	b, kv = beginMessage(b, num)
	b = appendStringField(b, fKVKey, key)
	b, av = beginMessage(b, fKVValue)
	b = appendAnyValue(b, v)
	b = endMessage(b, av)
	return endMessage(b, kv)
}

// appendAnyValue appends the fields of an AnyValue. A oneof member is
// written even when it holds its zero value.
func appendAnyValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendAnyString(b, v)
	case bool:
		b = appendTag(b, fAnyBool, protowire.VarintType)
		return appendVarint(b, protowire.EncodeBool(v))
	case int:
		return appendAnyInt(b, int64(v))
	case int8:
		return appendAnyInt(b, int64(v))
	case int16:
		return appendAnyInt(b, int64(v))
	case int32:
		return appendAnyInt(b, int64(v))
	case int64:
		return appendAnyInt(b, v)
	case uint8:
		return appendAnyInt(b, int64(v))
	case uint16:
		return appendAnyInt(b, int64(v))
	case uint32:
		return appendAnyInt(b, int64(v))
	case uint:
		return appendAnyUint(b, uint64(v))
	case uint64:
		return appendAnyUint(b, v)
	case uintptr:
		return appendAnyUint(b, uint64(v))
	case float32:
		return appendAnyDouble(b, float64(v))
	case float64:
		return appendAnyDouble(b, v)
	case []byte:
		b = appendTag(b, fAnyBytes, protowire.BytesType)
		return appendBytes(b, v)
	case []string:
		return appendArray(b, len(v), func(b []byte, i int) []byte { return appendAnyString(b, v[i]) })
	case []bool:
		return appendArray(b, len(v), func(b []byte, i int) []byte {
			b = appendTag(b, fAnyBool, protowire.VarintType)
			return appendVarint(b, protowire.EncodeBool(v[i]))
		})
	case []int64:
		return appendArray(b, len(v), func(b []byte, i int) []byte { return appendAnyInt(b, v[i]) })
	case []float64:
		return appendArray(b, len(v), func(b []byte, i int) []byte { return appendAnyDouble(b, v[i]) })
	case nil:
		return b
	default:
		return appendAnyString(b, fmt.Sprint(v))
	}
}

// appendArray appends an ArrayValue of n values, each written by elem
// (the array attribute types; see tracer.Attribute).
func appendArray(b []byte, n int, elem func(b []byte, i int) []byte) []byte {
	var arr int
	b, arr = beginMessage(b, fAnyArray)
	for i := 0; i < n; i++ {
		var av int
		b, av = beginMessage(b, fArrayValues)
		b = elem(b, i)
		b = endMessage(b, av)
	}
	return endMessage(b, arr)
}

func appendAnyString(b []byte, v string) []byte {
	b = appendTag(b, fAnyString, protowire.BytesType)
	if !isASCII(v) {
		v = validUTF8(v)
	}
	return appendString(b, v)
}

func appendAnyInt(b []byte, v int64) []byte {
	b = appendTag(b, fAnyInt, protowire.VarintType)
	return appendVarint(b, uint64(v))
}

func appendAnyUint(b []byte, v uint64) []byte {
	if v > math.MaxInt64 {
		return appendAnyString(b, strconv.FormatUint(v, 10))
	}
	return appendAnyInt(b, int64(v))
}

func appendAnyDouble(b []byte, v float64) []byte {
	b = appendTag(b, fAnyDouble, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(v))
}

// appendScope appends the fields of an InstrumentationScope.
func appendScope(b []byte, sc tracer.Scope) []byte {
	b = appendStringField(b, fScopeName, sc.Name)
	return appendStringField(b, fScopeVersion, sc.Version)
}

// appendResource appends the fields of a Resource.
func appendResource(b []byte, attrs []tracer.Attribute) []byte {
	for i := range attrs {
		b = appendKeyValue(b, fResourceAttributes, attrs[i].Key, attrs[i].Value)
	}
	return b
}

// lenFieldSize is the encoded size of a length-delimited field of n bytes
// whose field number fits a one-byte tag.
func lenFieldSize(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

func appendLenPrefix(b []byte, num protowire.Number, n int) []byte {
	b = appendTag(b, num, protowire.BytesType)
	return appendVarint(b, uint64(n))
}
