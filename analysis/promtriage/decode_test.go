package promtriage

import (
	"math"
	"testing"
)

// FuzzDecodeVector: whatever a server answers, decoding gives finite
// samples or an error, never a panic; an error quotes at most a clipped
// part of the body. The seed corpus is in testdata/fuzz/FuzzDecodeVector.
func FuzzDecodeVector(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"client":"a","server":"b"},"value":[1.5,"2"]}]}}`), 200)
	f.Add([]byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`), 400)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		out, skipped, err := decodeVector(body, status)
		if err != nil {
			if n := len(err.Error()); n > 4096 {
				t.Fatalf("error of %d bytes: the body must be clipped", n)
			}
			return
		}
		if skipped < 0 {
			t.Fatal("negative skipped")
		}
		for _, s := range out {
			if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
				t.Fatalf("non-finite sample %v", s.Value)
			}
		}
	})
}
