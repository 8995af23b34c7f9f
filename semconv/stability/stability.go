package stability

import (
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowtrace/flowtrace/sdklog"
)

// EnvOptIn is OpenTelemetry's migration switch.
const EnvOptIn = "OTEL_SEMCONV_STABILITY_OPT_IN"

// Bounds on the value of EnvOptIn, which is untrusted: what lies beyond is
// ignored (and reported as one unknown token).
const (
	MaxOptInBytes  = 1024
	MaxOptInTokens = 32
	// maxTokenReport bounds a reported unknown token.
	maxTokenReport = 64
	// maxWarned bounds the tokens FromEnv remembers having warned about.
	maxWarned = 32
)

// Category is a group of conventions the switch moves together.
type Category uint8

// Categories.
const (
	HTTP Category = iota
	Database
	RPC
	Messaging
	numCategories
)

var categoryNames = [numCategories]string{"http", "database", "rpc", "messaging"}

func (c Category) String() string {
	if c < numCategories {
		return categoryNames[c]
	}
	return "unknown"
}

// Emit says which vocabulary a category emits.
type Emit uint8

// Emit values. The zero Emit means Legacy.
const (
	Legacy Emit = 1 << iota
	Stable
	Both = Legacy | Stable
)

func (e Emit) norm() Emit {
	if e == 0 {
		return Legacy
	}
	return e
}

// HasLegacy reports whether the legacy names are emitted.
func (e Emit) HasLegacy() bool { return e.norm()&Legacy != 0 }

// HasStable reports whether the stable names are emitted.
func (e Emit) HasStable() bool { return e.norm()&Stable != 0 }

func (e Emit) String() string {
	switch e.norm() {
	case Stable:
		return "stable"
	case Both:
		return "dup"
	}
	return "legacy"
}

// OptIn is the parsed switch: what each category emits. The zero OptIn is
// the default, legacy names everywhere.
type OptIn struct {
	emit [numCategories]Emit
}

// For returns what category c emits.
func (o OptIn) For(c Category) Emit {
	if c >= numCategories {
		return Legacy
	}
	return o.emit[c].norm()
}

// IsDefault reports whether every category emits the legacy names only.
func (o OptIn) IsDefault() bool {
	for c := range numCategories {
		if o.For(c) != Legacy {
			return false
		}
	}
	return true
}

// With returns o with category c emitting e.
func (o OptIn) With(c Category, e Emit) OptIn {
	if c < numCategories {
		o.emit[c] = e.norm()
	}
	return o
}

// String returns the OptIn in the syntax of EnvOptIn ("" for the default).
func (o OptIn) String() string {
	var parts []string
	for c := range numCategories {
		switch o.For(c) {
		case Stable:
			parts = append(parts, c.String())
		case Both:
			parts = append(parts, c.String()+"/dup")
		}
	}
	return strings.Join(parts, ",")
}

// Parse reads a value of EnvOptIn: comma-separated tokens, surrounding
// spaces ignored, empty tokens skipped. A /dup token wins over the plain
// one whatever their order. It returns the tokens it does not know,
// sanitized (control characters and non-ASCII bytes as '?') and cut to 64
// bytes; input beyond MaxOptInBytes or MaxOptInTokens is reported as one
// such token.
func Parse(s string) (OptIn, []string) {
	var o OptIn
	var unknown []string
	if len(s) > MaxOptInBytes {
		s = s[:MaxOptInBytes]
		unknown = append(unknown, "(value cut at 1024 bytes)")
	}
	n := 0
	for tok := range strings.SplitSeq(s, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		if n++; n > MaxOptInTokens {
			unknown = append(unknown, "(tokens past the 32nd)")
			break
		}
		name, dup := strings.CutSuffix(tok, "/dup")
		c, ok := category(name)
		if !ok {
			unknown = append(unknown, sanitize(tok))
			continue
		}
		switch {
		case dup:
			o.emit[c] = Both
		case o.emit[c] != Both:
			o.emit[c] = Stable
		}
	}
	return o, unknown
}

func category(name string) (Category, bool) {
	for c, n := range categoryNames {
		if n == name {
			return Category(c), true
		}
	}
	return 0, false
}

func sanitize(s string) string {
	if len(s) > maxTokenReport {
		s = s[:maxTokenReport]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

var (
	warnMu sync.Mutex
	warned = map[string]bool{}
)

// FromEnv parses EnvOptIn from the environment, warning through
// sdklog.Default(); see FromEnvTo.
func FromEnv() OptIn { return FromEnvTo(nil) }

// FromEnvTo parses EnvOptIn from the environment. Each unknown token is
// reported once per process (up to 32 distinct ones) as a warning through
// l (nil: sdklog.Default(), flowtrace's SDK log on standard error), naming
// the values flowtrace knows; the rest of the value still applies.
//
// A middleware built per call (tracekafka.StartSpanFromMessage) reads it
// per message, so the last value parsed is kept: a repeated value costs
// the environment look-up and a comparison.
func FromEnvTo(l *slog.Logger) OptIn {
	v := os.Getenv(EnvOptIn)
	if p := lastParsed.Load(); p != nil && p.value == v {
		return p.optIn
	}
	o, unknown := Parse(v)
	if len(unknown) > 0 {
		warnUnknown(l, unknown)
	}
	lastParsed.Store(&parsed{value: v, optIn: o})
	return o
}

type parsed struct {
	value string
	optIn OptIn
}

var lastParsed atomic.Pointer[parsed]

func warnUnknown(l *slog.Logger, unknown []string) {
	warnMu.Lock()
	defer warnMu.Unlock()
	for _, tok := range unknown {
		if warned[tok] || len(warned) >= maxWarned {
			continue
		}
		warned[tok] = true
		sdklog.Warnf(l, "%s: ignoring unknown value %q (flowtrace knows http, http/dup, database, database/dup, rpc, rpc/dup, messaging, messaging/dup)", EnvOptIn, tok)
	}
}

var (
	defaultOnce sync.Once
	current     atomic.Pointer[OptIn]
)

// Default returns the process-wide switch the generated helpers of package
// semconv follow: SetDefault's value, else EnvOptIn read on first use. The
// middleware reads EnvOptIn (FromEnv) when it is constructed instead.
func Default() OptIn {
	if p := current.Load(); p != nil {
		return *p
	}
	defaultOnce.Do(func() {
		o := FromEnv()
		current.CompareAndSwap(nil, &o)
	})
	return *current.Load()
}

// SetDefault replaces the process-wide switch and returns a function that
// restores the previous one (for tests, and for programs that choose the
// vocabulary in code).
func SetDefault(o OptIn) (restore func()) {
	prev := Default()
	current.Store(&o)
	return func() { current.Store(&prev) }
}
