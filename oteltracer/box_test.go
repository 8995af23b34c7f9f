package oteltracer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
)

// String attribute values reused from the box table (box.go) are always
// the value that was set, whichever goroutines share the table's slots,
// for repeated, one-off and long values alike, whether the same bytes are
// passed again (prebuilt attributes, found by address) or an equal value
// is built anew for each span (found by hash).
func TestBoxedStringsConcurrent(t *testing.T) {
	_, p, rec := setup(t)
	tr := p.Tracer("box")
	long := string(make([]byte, 100))
	prebuilt := []attribute.KeyValue{attribute.String("prebuilt.a", "alpha"), attribute.String("prebuilt.b", "beta")}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				_, s := tr.Start(context.Background(), fmt.Sprintf("g%d-%d", g, i))
				s.SetAttributes(
					attribute.String("repeated", []string{"GET", "POST", "postgresql", "redis"}[i%4]),
					attribute.String("unique", fmt.Sprintf("id-%d-%d", g, i)),
					attribute.String("long", long),
					attribute.String("rebuilt", fmt.Sprint("v", i%3)),
				)
				s.SetAttributes(prebuilt[i%2])
				s.End()
			}
		}()
	}
	wg.Wait()
	spans := rec.Spans()
	require.Len(t, spans, 800)
	for _, s := range spans {
		var g, i int
		_, err := fmt.Sscanf(s.Name, "g%d-%d", &g, &i)
		require.NoError(t, err)
		require.Equal(t, []string{"GET", "POST", "postgresql", "redis"}[i%4], s.Attributes["repeated"], s.Name)
		require.Equal(t, fmt.Sprintf("id-%d-%d", g, i), s.Attributes["unique"], s.Name)
		require.Equal(t, long, s.Attributes["long"])
		require.Equal(t, fmt.Sprint("v", i%3), s.Attributes["rebuilt"], s.Name)
		if i%2 == 0 {
			require.Equal(t, "alpha", s.Attributes["prebuilt.a"], s.Name)
		} else {
			require.Equal(t, "beta", s.Attributes["prebuilt.b"], s.Name)
		}
	}
}
