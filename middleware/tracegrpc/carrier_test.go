package tracegrpc_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/metadata"

	"github.com/flowtrace/flowtrace/middleware/tracegrpc"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/propagation/carriertest"
)

func TestMetadataCarrierConformance(t *testing.T) {
	t.Parallel()
	carriertest.Run(t, func() propagation.Carrier { return tracegrpc.MetadataCarrier(metadata.MD{}) },
		carriertest.CaseInsensitive())
}

func TestMetadataCarrierRejects(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, key, value string }{
		{"NUL", "x-flow-id", "a\x00b"},
		{"CR LF", "baggage", "a=1\r\nx-injected: 1"},
		{"DEL", "tracestate", "a=\x7f"},
		{"high bytes", "traceparent", "\xff\xfe"},
		{"tab", "x-flow-id", "a\tb"},
		{"huge", "baggage", strings.Repeat("a", tracegrpc.MaxValueLen+1)},
		{"binary key", "trace-bin", "abc"},
		{"bad key", "x flow", "abc"},
		{"pseudo header", ":authority", "abc"},
		{"empty key", "", "abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			md := metadata.MD{}
			c := tracegrpc.MetadataCarrier(md)
			c.Set(tc.key, tc.value)
			assert.Empty(t, md, "nothing written")

			// The same value arriving from the wire is not read either.
			in := tracegrpc.MetadataCarrier(metadata.MD{strings.ToLower(tc.key): {tc.value}})
			assert.Empty(t, in.Get(tc.key))
			assert.Empty(t, in.Values(tc.key))
			assert.Empty(t, in.Keys())
			assert.NoError(t, in.ForeachKey(func(k, v string) error {
				t.Errorf("ForeachKey yielded %q=%q", k, v)
				return nil
			}))
		})
	}
}

func TestMetadataCarrierInvalidSetRemovesOld(t *testing.T) {
	t.Parallel()
	md := metadata.MD{"baggage": {"a=1"}}
	tracegrpc.MetadataCarrier(md).Set("Baggage", "a=\n")
	assert.Empty(t, md)
}

func TestMetadataCarrierMixedValues(t *testing.T) {
	t.Parallel()
	md := metadata.MD{"baggage": {"a=\xff", "b=2", "c=\x00", "d=4"}}
	c := tracegrpc.MetadataCarrier(md)
	assert.Equal(t, []string{"b=2", "d=4"}, c.Values("BAGGAGE"))
	assert.Equal(t, "b=2", c.Get("baggage"))
	assert.Len(t, md["baggage"], 4, "reading never changes the metadata")
}

// FuzzMetadataCarrier checks that whatever the key and value, the carrier
// never writes what grpc-go would reject and never reads it back.
func FuzzMetadataCarrier(f *testing.F) {
	f.Add("x-flow-id", "abc")
	f.Add("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	f.Add("baggage", "k=v\r\n")
	f.Add("a-bin", "\x00\xff")
	f.Add("ÄÖ", "é")
	f.Fuzz(func(t *testing.T, key, value string) {
		md := metadata.MD{}
		c := tracegrpc.MetadataCarrier(md)
		c.Set(key, value)
		for k, vs := range md {
			if !validKey(k) {
				t.Fatalf("wrote key %q", k)
			}
			for _, v := range vs {
				if !printable(v) || len(v) > tracegrpc.MaxValueLen {
					t.Fatalf("wrote value %q", v)
				}
			}
		}
		if len(md) == 1 && c.Get(key) != value {
			t.Fatalf("Get(%q) = %q after Set of %q", key, c.Get(key), value)
		}
		raw := tracegrpc.MetadataCarrier(metadata.MD{key: {value, "ok"}})
		for _, v := range raw.Values(key) {
			if !printable(v) {
				t.Fatalf("read value %q", v)
			}
		}
		_ = raw.ForeachKey(func(k, v string) error {
			if !validKey(k) || !printable(v) {
				t.Fatalf("ForeachKey yielded %q=%q", k, v)
			}
			return nil
		})
	})
}

func validKey(k string) bool {
	if k == "" || strings.HasSuffix(k, "-bin") {
		return false
	}
	for _, c := range []byte(k) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func printable(v string) bool {
	for _, c := range []byte(v) {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
