package export

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzCollectorAnswer feeds hostile response parts to what reads them: the
// Retry-After header, error bodies (google.rpc.Status or text) and accepted
// bodies (protobuf or JSON partial success). None may panic; delays stay
// within maxServerDelay and messages stay short.
func FuzzCollectorAnswer(f *testing.F) {
	f.Add("120", []byte("\x08\x0e\x12\x04busy"), "application/x-protobuf")
	f.Add("Wed, 21 Oct 2026 07:28:00 GMT", []byte(`{"partialSuccess":{"rejectedSpans":"3","errorMessage":"x"}}`), "application/json")
	f.Add("-1", []byte("\x0a\xff\xff\xff\xff\x0f"), "")
	f.Add("99999999999999999999", []byte("plain text error"), "text/plain")
	f.Fuzz(func(t *testing.T, header string, body []byte, contentType string) {
		if d := retryAfter(header); d < 0 || d > maxServerDelay+time.Second {
			t.Fatalf("retryAfter(%q) = %v", header, d)
		}
		if m := statusMessage(body); len(m) > len(body)+2 {
			t.Fatalf("statusMessage longer than its body: %q", m)
		}
		r := (&httpTransport{}).decodeResponse(contentType, body)
		if !utf8.ValidString(r.ErrorMessage) && len(r.ErrorMessage) > len(body) {
			t.Fatalf("message from nowhere: %q", r.ErrorMessage)
		}
	})
}
