package sdklog

import (
	"context"
	"log/slog"
	"strings"
)

// Slog returns a slog.Handler writing through l, for SDK components that
// take a *slog.Logger (semconv's enforcer): records become SDK lines,
// escaped, scrubbed and rate-limited by message. slog levels map to the
// nearest SDK level.
func (l *Logger) Slog() slog.Handler { return &slogHandler{l: l} }

type slogHandler struct {
	l      *Logger
	prefix string // groups, dotted
	attrs  []slog.Attr
}

func slogLevel(level slog.Level) Level {
	switch {
	case level >= slog.LevelError:
		return LevelError
	case level >= slog.LevelWarn:
		return LevelWarn
	case level >= slog.LevelInfo:
		return LevelInfo
	default:
		return LevelDebug
	}
}

func (h *slogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return h.l.Enabled(slogLevel(level))
}

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	return h.handle(r, "slog:"+r.Message)
}

// handle writes r with key as its rate-limit key.
func (h *slogHandler) handle(r slog.Record, key string) error {
	level := slogLevel(r.Level)
	if !h.l.Enabled(level) {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		writeAttr(&b, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.prefix, a)
		return true
	})
	h.l.write(level, key, b.String())
	return nil
}

func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			writeAttr(b, prefix+a.Key+".", g)
		}
		return
	}
	b.WriteString(" " + bound(prefix+a.Key, 64) + "=")
	switch v.Kind() {
	case slog.KindString:
		b.WriteString(value(v.String()))
	case slog.KindAny:
		b.WriteString(valueOf(v.Any()))
	default:
		b.WriteString(v.String())
	}
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		a.Key = h.prefix + a.Key
		c.attrs = append(c.attrs, a)
	}
	return &c
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix += name + "."
	return &c
}
