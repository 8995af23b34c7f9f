// Package sdklog is flowtrace's own log: the one place the SDK writes about
// itself (start-up, malformed settings, export failures, and what other
// OpenTelemetry components in the process report through the otel global
// logger and error handler).
//
// Every line is
//
//	flowtrace: <level>: <message>
//
// at one of four levels, chosen by OTEL_LOG_LEVEL (error, warn, info, the
// default, or debug; debug also prints the outcome of each export). Info
// lines carry no level word, so the start-up line reads "flowtrace:
// service=...".
//
// A service's logs must not suffer from its tracing, so each line is
//
//   - escaped: control characters, invalid UTF-8 and terminal escapes are
//     written as Go escapes, so nothing logged can forge or split a line;
//   - bounded: a line is cut at MaxLineBytes;
//   - secret-free: strings registered with [Logger.AddSecrets] (header
//     values, endpoint passwords) are replaced by [redacted], and so are URL
//     user information and what follows "Bearer", "Basic" or
//     "authorization="-like words, whoever wrote the line;
//   - rate-limited: each message format may write a burst of lines, then
//     one per interval; what was suppressed is counted on the next line of
//     that format.
//
// The SDK's components take a *slog.Logger: [Default] (stderr, for a
// component given none), [NewSlog], or a [Logger]'s [Logger.Slog] handler
// (flowtrace.Start threads its own that way); [Errorf], [Warnf], [Infof]
// and [Debugf] write printf-style lines through one, keeping the format as
// the rate-limit key. [ToHandler] puts a program's own slog handler behind
// the same escaping, bounds, scrubbing and rate limit.
//
// The Logger API is small on purpose: [New], [ParseLevel], the four level
// methods, [Logger.AddSecrets], [Logger.Logr] (a logr.Logger for
// otel.SetLogger) and [Logger.Handle] (an otel ErrorHandler). A nil *Logger
// discards everything.
package sdklog
