package export

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
)

var _ otel.ErrorHandler = (*ErrorHandler)(nil)

func TestErrorHandlerRateLimited(t *testing.T) {
	logs := &lineLogger{}
	h := NewErrorHandler(logs.logger(), time.Hour)
	for range 10000 {
		h.Handle(errFake)
	}
	h.Handle(errors.New("OTLP partial success: too big (5 metric data points rejected)"))
	h.Handle(nil)
	require.Len(t, logs.Lines(), 1, "an error storm makes one line per interval")
	h.Flush()
	h.Flush()
	lines := logs.Lines()
	require.Len(t, lines, 2)
	require.Contains(t, lines[1], "10000 error(s) (1 partial success)")
	require.Equal(t, ErrorHandlerStats{Errors: 10001, PartialSuccesses: 1, Rejected: 5}, h.Stats())
}

func TestErrorHandlerEscapesAndTruncates(t *testing.T) {
	logs := &lineLogger{}
	h := NewErrorHandler(logs.logger(), time.Hour)
	h.Handle(errors.New("body: evil\nflowtrace: fake line \x1b[31m" + strings.Repeat("é", 1000)))
	line := logs.Lines()[0]
	require.NotContains(t, line, "\n")
	require.NotContains(t, line, "\x1b")
	require.Less(t, len(line), maxLoggedError+200)
	require.Contains(t, line, `\n`)
}

func TestErrorHandlerConcurrent(t *testing.T) {
	h := NewErrorHandler(nil, time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				h.Handle(errFake)
			}
			h.Flush()
		})
	}
	wg.Wait()
	require.Equal(t, int64(4000), h.Stats().Errors)
}
