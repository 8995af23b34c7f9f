//go:build !race

package semconv_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/opentracing/opentracing-go/ext"

	"github.com/flowtrace/flowtrace/semconv"
)

// TestCheckTagAllocs pins the hot path: a valid known tag costs no
// allocation in either mode, and neither does a repeated unknown key.
func TestCheckTagAllocs(t *testing.T) {
	for _, mode := range []semconv.Mode{semconv.Warn, semconv.Strict} {
		e := semconv.NewEnforcer(nil, mode, semconv.WithLogger(slog.New(slog.DiscardHandler)))
		var status any = 200
		var kind any = ext.SpanKindRPCServerEnum
		n := testing.AllocsPerRun(1000, func() {
			e.CheckTag("http.method", "GET")
			e.CheckTag("http.status_code", status)
			e.CheckTag("critical_operation", "checkout")
			e.CheckTag("span.kind", kind)
			e.CheckTag("http.request.header.x-tenant", "acme")
			e.CheckTag("no.such.key", status)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", mode, n)
		}
		e.Close()
	}
}

// TestSuggestHugeKeyAllocs: a key far longer than any registered key gets
// no suggestion and costs no allocation (computing edit distances against
// the registry would allocate two rows per registered key, and take seconds
// for a 1 MiB key).
func TestSuggestHugeKeyAllocs(t *testing.T) {
	reg := semconv.Default()
	key := strings.Repeat("k", 1<<20)
	var got string
	n := testing.AllocsPerRun(5, func() { got = reg.Suggest(key) })
	if got != "" || n != 0 {
		t.Errorf("Suggest(1 MiB key) = %q with %v allocations per run, want \"\" and 0", got, n)
	}
}
