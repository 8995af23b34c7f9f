package sdklog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
)

// maxValueBytes bounds one key-value value of a logr record.
const maxValueBytes = 256

// Logr returns a logr.Logger writing through l, for otel.SetLogger: what
// other OpenTelemetry components log is escaped, scrubbed of secrets and
// rate-limited like flowtrace's own lines. OpenTelemetry's verbosities map
// to levels: V(0) and V(1) (its warnings) to warn, up to V(4) (info) to
// info, above to debug; Error to error.
func (l *Logger) Logr() logr.Logger { return logr.New(&sink{l: l}) }

type sink struct {
	l      *Logger
	name   string
	values []any
}

var _ logr.LogSink = (*sink)(nil)

func (s *sink) Init(logr.RuntimeInfo) {}

func verbosity(v int) Level {
	switch {
	case v <= 1:
		return LevelWarn
	case v <= 4:
		return LevelInfo
	default:
		return LevelDebug
	}
}

func (s *sink) Enabled(v int) bool { return s.l.Enabled(verbosity(v)) }

func (s *sink) Info(v int, msg string, kv ...any) {
	level := verbosity(v)
	if !s.l.Enabled(level) {
		return
	}
	s.l.write(level, "otel:"+s.name+msg, s.render(msg, nil, kv))
}

func (s *sink) Error(err error, msg string, kv ...any) {
	if !s.l.Enabled(LevelError) {
		return
	}
	s.l.write(LevelError, "otel:"+s.name+msg, s.render(msg, err, kv))
}

func (s *sink) WithValues(kv ...any) logr.LogSink {
	c := *s
	c.values = append(append([]any(nil), s.values...), kv...)
	return &c
}

func (s *sink) WithName(name string) logr.LogSink {
	c := *s
	if c.name == "" {
		c.name = name
	} else {
		c.name += "/" + name
	}
	return &c
}

func (s *sink) render(msg string, err error, kv []any) string {
	var b strings.Builder
	b.WriteString("opentelemetry")
	if s.name != "" {
		b.WriteString(" " + s.name)
	}
	b.WriteString(": ")
	b.WriteString(msg)
	if err != nil {
		b.WriteString(" error=" + value(err.Error()))
	}
	for _, list := range [][]any{s.values, kv} {
		for i := 0; i < len(list); i += 2 {
			key := fmt.Sprint(list[i])
			val := "(missing)"
			if i+1 < len(list) {
				val = valueOf(list[i+1])
			}
			b.WriteString(" " + bound(key, 64) + "=" + val)
		}
	}
	return b.String()
}

func valueOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return value(x)
	case error:
		return value(x.Error())
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return fmt.Sprint(x)
	case fmt.Stringer:
		return value(safeString(x))
	default:
		return value(fmt.Sprintf("%v", x))
	}
}

// safeString calls String, recovering a panic (a user's Stringer may panic).
func safeString(x fmt.Stringer) (s string) {
	defer func() {
		if recover() != nil {
			s = "(String panicked)"
		}
	}()
	return x.String()
}

func value(s string) string { return strconv.Quote(bound(s, maxValueBytes)) }

func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
