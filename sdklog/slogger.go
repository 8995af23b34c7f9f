package sdklog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// NewSlog returns New(w, level, opts...) as a *slog.Logger: the form the
// SDK's components take (the export batcher and exporter, the
// OpenTelemetry error handler, semconv's enforcer, the middleware).
func NewSlog(w io.Writer, level Level, opts ...Option) *slog.Logger {
	return slog.New(New(w, level, opts...).Slog())
}

var (
	defaultOnce sync.Once
	defaultLog  *slog.Logger
)

// Default is the logger of SDK components that were given none: standard
// error at DefaultLevel, through one Logger for the process (so that its
// rate limit is shared). flowtrace.Start gives its components its own.
func Default() *slog.Logger {
	defaultOnce.Do(func() { defaultLog = NewSlog(os.Stderr, DefaultLevel) })
	return defaultLog
}

// Errorf, Warnf, Infof and Debugf write one printf-style line through l
// (Default when nil). Through a logger of this package the format is the
// rate-limit key, as with [Logger.Errorf]; through any other handler the
// formatted line is the record's message.
func Errorf(l *slog.Logger, format string, args ...any) { logf(l, LevelError, format, args) }

// Warnf writes a warning line; see Errorf.
func Warnf(l *slog.Logger, format string, args ...any) { logf(l, LevelWarn, format, args) }

// Infof writes an info line; see Errorf.
func Infof(l *slog.Logger, format string, args ...any) { logf(l, LevelInfo, format, args) }

// Debugf writes a debug line; see Errorf.
func Debugf(l *slog.Logger, format string, args ...any) { logf(l, LevelDebug, format, args) }

// Enabled reports whether l writes lines at level (Default when l is nil).
func Enabled(l *slog.Logger, level Level) bool {
	if l == nil {
		l = Default()
	}
	return l.Enabled(context.Background(), toSlog(level))
}

func logf(l *slog.Logger, level Level, format string, args []any) {
	if l == nil {
		l = Default()
	}
	if h, ok := l.Handler().(*slogHandler); ok {
		if !h.l.Enabled(level) {
			return
		}
		msg := fmt.Sprintf(format, args...)
		if len(h.attrs) > 0 {
			r := slog.NewRecord(h.l.now(), toSlog(level), msg, 0)
			_ = h.handle(r, "f:"+format)
			return
		}
		h.l.write(level, "f:"+format, msg)
		return
	}
	if !l.Enabled(context.Background(), toSlog(level)) {
		return
	}
	l.Log(context.Background(), toSlog(level), fmt.Sprintf(format, args...))
}
