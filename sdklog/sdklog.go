package sdklog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Level is how much the SDK says about itself.
type Level int8

// Levels, from the least to the most verbose.
const (
	LevelError Level = iota
	LevelWarn
	LevelInfo
	LevelDebug
)

// DefaultLevel is the level when OTEL_LOG_LEVEL is unset.
const DefaultLevel = LevelInfo

var levelNames = [...]string{"error", "warn", "info", "debug"}

func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel reads an OTEL_LOG_LEVEL value: error, warn (or warning), info
// or debug, in any case. Anything else is an error and DefaultLevel.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return LevelError, nil
	case "warn", "warning":
		return LevelWarn, nil
	case "info":
		return LevelInfo, nil
	case "debug":
		return LevelDebug, nil
	}
	return DefaultLevel, fmt.Errorf("unknown log level (known: %s)", strings.Join(levelNames[:], ", "))
}

// Bounds of one Logger.
const (
	// MaxLineBytes bounds a line (before its newline).
	MaxLineBytes = 2048
	// DefaultBurst lines of one format are written before the rate limit
	// applies; then one line per DefaultInterval.
	DefaultBurst    = 20
	DefaultInterval = time.Second
	// maxKeys bounds the rate limiter's table; formats beyond it share one
	// budget.
	maxKeys = 512
	// maxSecrets bounds AddSecrets; minSecretLen skips strings too short to
	// be secrets (redacting "a" would mangle every line).
	maxSecrets   = 128
	minSecretLen = 4
	redacted     = "[redacted]"
)

// Logger writes SDK log lines to one writer, or to one slog.Handler (see
// [ToHandler]). It is safe for concurrent use.
type Logger struct {
	w        io.Writer
	h        slog.Handler // when set, lines go here instead of w
	level    Level
	burst    int
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	keys    map[string]*bucket
	secrets []string
}

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed int64
}

// Option configures a Logger.
type Option func(*Logger)

// WithRateLimit lets each message format write burst lines, then one per
// interval. burst <= 0 or interval <= 0 keep the defaults.
func WithRateLimit(burst int, interval time.Duration) Option {
	return func(l *Logger) {
		if burst > 0 {
			l.burst = burst
		}
		if interval > 0 {
			l.interval = interval
		}
	}
}

// New returns a Logger writing lines up to level to w. A nil w discards.
func New(w io.Writer, level Level, opts ...Option) *Logger {
	if w == nil {
		w = io.Discard
	}
	l := &Logger{w: w, level: level, burst: DefaultBurst, interval: DefaultInterval, now: time.Now, keys: make(map[string]*bucket)}
	for _, o := range opts {
		if o != nil {
			o(l)
		}
	}
	return l
}

// ToHandler returns a Logger that hands its lines to h (a program's own
// *slog.Logger's handler, given to flowtrace.Start) instead of writing
// them: the same levels, escaping, bounds, secret scrubbing and rate
// limit; the record's message is the line without the "flowtrace: " prefix
// and level word (the handler writes the level), with one attribute,
// component=flowtrace. A nil h discards.
func ToHandler(h slog.Handler, level Level, opts ...Option) *Logger {
	if h == nil {
		return New(nil, level, opts...)
	}
	l := New(nil, level, opts...)
	l.w, l.h = nil, h
	return l
}

// Level returns the logger's level.
func (l *Logger) Level() Level {
	if l == nil {
		return LevelError
	}
	return l.level
}

// Enabled reports whether lines at level are written.
func (l *Logger) Enabled(level Level) bool {
	if l == nil || level > l.level {
		return false
	}
	if l.h != nil {
		return l.h.Enabled(context.Background(), toSlog(level))
	}
	return l.w != io.Discard
}

// toSlog is the slog level of an SDK level.
func toSlog(level Level) slog.Level {
	switch level {
	case LevelError:
		return slog.LevelError
	case LevelWarn:
		return slog.LevelWarn
	case LevelInfo:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// Errorf, Warnf, Infof and Debugf write one line at their level. The format
// is also the rate-limit key, so pass variable text as arguments.
func (l *Logger) Errorf(format string, args ...any) { l.logf(LevelError, format, args) }

// Warnf writes a warning line; see Errorf.
func (l *Logger) Warnf(format string, args ...any) { l.logf(LevelWarn, format, args) }

// Infof writes an info line; see Errorf.
func (l *Logger) Infof(format string, args ...any) { l.logf(LevelInfo, format, args) }

// Debugf writes a debug line; see Errorf.
func (l *Logger) Debugf(format string, args ...any) { l.logf(LevelDebug, format, args) }

// AddSecrets registers strings that must never appear in a line (header
// values, passwords). Each is also registered in its URL-escaped forms.
// Strings shorter than 4 bytes are ignored; at most 128 are kept.
func (l *Logger) AddSecrets(secrets ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range secrets {
		for _, v := range []string{s, strings.TrimSpace(s), url.QueryEscape(s), url.PathEscape(s), strconv.Quote(s)[1 : len(strconv.Quote(s))-1]} {
			if len(v) < minSecretLen || len(l.secrets) >= maxSecrets || contains(l.secrets, v) {
				continue
			}
			l.secrets = append(l.secrets, v)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	for i := 1; i < len(l.secrets); i++ {
		for j := i; j > 0 && len(l.secrets[j]) > len(l.secrets[j-1]); j-- {
			l.secrets[j], l.secrets[j-1] = l.secrets[j-1], l.secrets[j]
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (l *Logger) logf(level Level, format string, args []any) {
	if !l.Enabled(level) {
		return
	}
	l.write(level, format, fmt.Sprintf(format, args...))
}

// write rate-limits by key, then scrubs, escapes, bounds and writes msg.
func (l *Logger) write(level Level, key, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	suppressed, ok := l.allowLocked(key)
	if !ok {
		return
	}
	var b strings.Builder
	if l.h == nil {
		b.WriteString("flowtrace: ")
	}
	switch {
	case l.h != nil:
	case level == LevelError:
		b.WriteString("error: ")
	case level == LevelWarn:
		b.WriteString("warning: ")
	case level == LevelDebug:
		b.WriteString("debug: ")
	}
	msg = strings.TrimPrefix(msg, "flowtrace: ")
	// Cut before scrubbing so a huge message costs little; a secret cut
	// here lies past the final cut below.
	if len(msg) > 2*MaxLineBytes {
		msg = msg[:2*MaxLineBytes]
	}
	b.WriteString(Escape(l.scrubLocked(msg)))
	line := b.String()
	if len(line) > MaxLineBytes {
		cut := MaxLineBytes
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut] + "..."
	}
	if suppressed > 0 {
		line += fmt.Sprintf(" (%d similar line(s) suppressed)", suppressed)
	}
	if l.h != nil {
		r := slog.NewRecord(l.now(), toSlog(level), line, 0)
		r.AddAttrs(slog.String("component", "flowtrace"))
		_ = l.h.Handle(context.Background(), r)
		return
	}
	_, _ = io.WriteString(l.w, line+"\n")
}

func (l *Logger) allowLocked(key string) (suppressed int64, ok bool) {
	now := l.now()
	bk := l.keys[key]
	if bk == nil {
		if len(l.keys) >= maxKeys {
			key = "\x00overflow"
			bk = l.keys[key]
		}
		if bk == nil {
			bk = &bucket{tokens: float64(l.burst), last: now}
			l.keys[key] = bk
		}
	}
	if el := now.Sub(bk.last); el > 0 {
		bk.tokens = min(float64(l.burst), bk.tokens+float64(el)/float64(l.interval))
		bk.last = now
	}
	if bk.tokens < 1 {
		bk.suppressed++
		return 0, false
	}
	bk.tokens--
	suppressed, bk.suppressed = bk.suppressed, 0
	return suppressed, true
}

var (
	// userinfoRE matches the user information of a URL: scheme://user:pw@
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*:(?://|\\/\\/))[^/@\s"']*@`)
	// schemeRE matches the credential after an HTTP authorisation scheme.
	schemeRE = regexp.MustCompile(`(?i)\b(bearer|basic)((?:\s|%20|\+)+)[^\s",;&)\]]+`)
	// keyRE matches the value of a credential-like key.
	keyRE = regexp.MustCompile(`(?i)(authorization|api[-_]?key|token|password|passwd|secret)((?:"?\s*[=:]\s*"?)|%3[adAD])[^\s",;&)\]]+`)
)

func (l *Logger) scrubLocked(s string) string {
	for _, sec := range l.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	s = userinfoRE.ReplaceAllString(s, "${1}"+redacted+"@")
	s = schemeRE.ReplaceAllString(s, "${1}${2}"+redacted)
	return keyRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := keyRE.FindStringSubmatch(m)
		if strings.HasPrefix(m[len(sub[1])+len(sub[2]):], redacted) {
			return m
		}
		return sub[1] + sub[2] + redacted
	})
}

// Escape returns s with every byte that could end, forge or colour a line
// written as a Go escape: control characters, DEL, invalid UTF-8 and
// Unicode line separators. Printable text, spaces and quotes are kept.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Handle logs err at error level; a Logger is an otel ErrorHandler.
func (l *Logger) Handle(err error) {
	if err == nil || !l.Enabled(LevelError) {
		return
	}
	l.write(LevelError, "opentelemetry error", "opentelemetry: "+err.Error())
}
