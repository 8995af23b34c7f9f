package export

import (
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/flowtrace/flowtrace/sdklog"
)

// maxLoggedError bounds the text of one error in a log line: errors can
// carry a collector's response body.
const maxLoggedError = 512

// quoteError renders err for a log line: truncated to maxLoggedError bytes
// and quoted, so a hostile collector cannot inject newlines or terminal
// escapes into the service's logs.
func quoteError(err error) string {
	if err == nil {
		return `""`
	}
	s := err.Error()
	if len(s) > maxLoggedError {
		cut := maxLoggedError
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}

// ErrorHandlerStats counts what an ErrorHandler was given.
type ErrorHandlerStats struct {
	// Errors counts every error handled, partial successes included.
	Errors int64
	// PartialSuccesses counts OTLP partial success errors, and Rejected the
	// items (spans, data points, log records) they reported rejected.
	PartialSuccesses int64
	Rejected         int64
}

// ErrorHandler is a rate-limited go.opentelemetry.io/otel ErrorHandler: it
// writes at most one line per interval, carrying the number of errors since
// the previous line and the last one (quoted, truncated). It recognises
// OTLP partial success errors (see AsPartialSuccess) and counts them
// separately. It is safe for concurrent use and starts no goroutine: errors
// suppressed within an interval are reported with the next line or by
// Flush.
//
// flowtrace's own OTLP transport reads partial successes from each
// response, and its Batcher counts them as DroppedRejected; nothing of
// flowtrace reports to the global handler. A partial success seen here
// comes from another OpenTelemetry component in the process, and is counted
// here, not on a flowtrace pipeline.
type ErrorHandler struct {
	logger   *slog.Logger
	interval time.Duration

	mu       sync.Mutex
	stats    ErrorHandlerStats
	last     time.Time
	pending  int64
	pendingP int64
	lastErr  error
}

// NewErrorHandler returns an ErrorHandler writing to l at most once per
// interval (DefaultErrorLogInterval when <= 0). A nil l discards lines.
func NewErrorHandler(l *slog.Logger, interval time.Duration) *ErrorHandler {
	if interval <= 0 {
		interval = DefaultErrorLogInterval
	}
	return &ErrorHandler{logger: l, interval: interval}
}

// SetLogger changes where the handler writes; nil discards lines.
func (h *ErrorHandler) SetLogger(l *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logger = l
}

// Handle counts err and logs it unless a line was written within the
// interval. A nil err is ignored.
func (h *ErrorHandler) Handle(err error) {
	if err == nil {
		return
	}
	n, _, partial := AsPartialSuccess(err)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Errors++
	h.pending++
	if partial {
		h.stats.PartialSuccesses++
		h.stats.Rejected += max(n, 0)
		h.pendingP++
	}
	h.lastErr = err
	now := time.Now()
	if !h.last.IsZero() && now.Sub(h.last) < h.interval {
		return
	}
	h.last = now
	h.reportLocked()
}

// Flush writes a line for errors not yet reported, if any.
func (h *ErrorHandler) Flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending > 0 {
		h.reportLocked()
	}
}

func (h *ErrorHandler) reportLocked() {
	if h.logger != nil && h.pending > 0 {
		sdklog.Errorf(h.logger, "opentelemetry: %d error(s) (%d partial success) since the last report; last: %s",
			h.pending, h.pendingP, quoteError(h.lastErr))
	}
	h.pending, h.pendingP, h.lastErr = 0, 0, nil
}

// Stats returns the handler's counters.
func (h *ErrorHandler) Stats() ErrorHandlerStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}
