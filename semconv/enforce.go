package semconv

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opentracing/opentracing-go/ext"

	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

// Environment variables read by FromEnv, ModeFromEnv and PolicyFromEnv.
const (
	// EnvRegistry names a registry file that replaces (or, with
	// "extends: default", extends) the embedded registry.
	EnvRegistry = "FLOWTRACE_SEMCONV_REGISTRY"
	// EnvMode is the enforcement mode: off, warn or strict.
	EnvMode = "FLOWTRACE_SEMCONV_MODE"
)

// Mode is how strictly an Enforcer applies the registry at run time.
type Mode uint8

// Modes.
const (
	// Off checks nothing. Callers install no policy at all (see NewPolicy),
	// so the cost is zero.
	Off Mode = iota
	// Warn counts violations and logs them, at most one line per key per
	// interval, but leaves every span as the caller made it.
	Warn
	// Strict also drops or coerces offending tags, and the tracer records
	// the number of violations on the span (semconv.violations).
	Strict
)

// String returns the mode's name as ParseMode accepts it.
func (m Mode) String() string {
	switch m {
	case Off:
		return "off"
	case Warn:
		return "warn"
	case Strict:
		return "strict"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode parses off, warn or strict (case-insensitive; empty means off).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off":
		return Off, nil
	case "warn":
		return Warn, nil
	case "strict":
		return Strict, nil
	}
	return Off, fmt.Errorf("semconv: unknown mode %q (want off, warn or strict)", s)
}

// ModeFromEnv parses FLOWTRACE_SEMCONV_MODE; unset means Off.
func ModeFromEnv() (Mode, error) { return ParseMode(os.Getenv(EnvMode)) }

// Violation is a kind of convention violation.
type Violation uint8

// Violation kinds.
const (
	// UnknownKey: the key is not in the registry. Strict drops the tag.
	UnknownKey Violation = iota
	// WrongType: the value has the wrong type and cannot be converted
	// without loss. Strict drops the tag.
	WrongType
	// Coerced: the value had the wrong type and was converted without loss
	// ("200" to 200 for an int tag, 3 to 3.0 for a float tag).
	Coerced
	// InvalidValue: the value is outside the allowed values or does not
	// match the pattern. Strict drops the tag.
	InvalidValue
	// DeprecatedKey: the key is deprecated. The tag is kept.
	DeprecatedKey
	// Misplaced: a log-only key (e.g. "event") was set as a tag. Strict
	// drops the tag.
	Misplaced
	// MissingRequired: a finished span lacks tags its kind requires.
	MissingRequired
	numViolations
)

var violationNames = [numViolations]string{"unknown key", "wrong type", "coerced", "invalid value", "deprecated key", "log field set as tag", "missing required tag"}

// String describes the violation kind.
func (v Violation) String() string {
	if v < numViolations {
		return violationNames[v]
	}
	return fmt.Sprintf("Violation(%d)", uint8(v))
}

// Stats are an Enforcer's violation counts since it was made.
type Stats struct {
	// ByKind counts violations by kind.
	ByKind map[Violation]uint64
	// ByKey counts violations by tag key; unknown keys beyond a bound are
	// counted under OtherKeys. MissingRequired is counted under
	// "required:<kind>".
	ByKey map[string]uint64
}

// OtherKeys is the Stats.ByKey entry counting unknown keys beyond the
// number an Enforcer tracks one by one.
const OtherKeys = "<other>"

// Total returns the number of violations of all kinds.
func (s Stats) Total() uint64 {
	var n uint64
	for _, c := range s.ByKind {
		n += c
	}
	return n
}

// Option configures an Enforcer.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	logger       *slog.Logger
	interval     time.Duration
	maxUnknown   int
	now          func() time.Time
	logQueueSize int
}

func newConfig(opts []Option) config {
	c := config{interval: time.Minute, maxUnknown: 256, now: time.Now, logQueueSize: 64}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.logger == nil {
		// The SDK's one logger, not the program's slog.Default: a
		// hostile tag is escaped and rate-limited before it is a line.
		c.logger = sdklog.Default()
	}
	return c
}

// WithLogger sets where violations are logged (default sdklog.Default();
// flowtrace.Start passes the SDK's logger).
// Lines are written by the Enforcer's own goroutine, never on the span's
// hot path; when that goroutine falls behind, lines are dropped (the counts
// stay exact).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithLogInterval sets the least time between two log lines for the same
// key (default one minute).
func WithLogInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.interval = d
		}
	})
}

// WithMaxUnknownKeys bounds how many distinct unknown keys are counted one
// by one (default 256); the rest share the "<other>" count and log limit.
func WithMaxUnknownKeys(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.maxUnknown = n
		}
	})
}

// keyState counts the violations of one key and limits its logging.
type keyState struct {
	count   atomic.Uint64
	lastLog atomic.Int64 // unix nanoseconds of the last line; 0 never
}

type entry struct {
	def   *Definition
	state keyState
}

type logRecord struct {
	key       string
	violation Violation
	value     any
	detail    string
	count     uint64
}

// Enforcer applies a Registry to tags at run time; it implements
// tracer.TagPolicy. It is safe for concurrent use; Close stops its logging
// goroutine.
type Enforcer struct {
	reg       *Registry
	mode      Mode
	cfg       config
	entries   map[string]*entry
	templates []*entry
	kinds     [numViolations]atomic.Uint64
	required  [6]keyState

	mu      sync.RWMutex
	unknown map[string]*keyState
	other   keyState

	logOnce   sync.Once
	closeOnce sync.Once
	logs      chan logRecord
	done      chan struct{}
	closed    atomic.Bool
}

var _ tracer.TagPolicy = (*Enforcer)(nil)

// NewEnforcer returns an Enforcer of reg (nil means Default()) in the given
// mode. An Enforcer in mode Off accepts everything; rather than installing
// one, install no policy (NewPolicy does that).
func NewEnforcer(reg *Registry, mode Mode, opts ...Option) *Enforcer {
	if reg == nil {
		reg = Default()
	}
	e := &Enforcer{
		reg:     reg,
		mode:    mode,
		cfg:     newConfig(opts),
		entries: make(map[string]*entry, len(reg.defs)),
		unknown: map[string]*keyState{},
		done:    make(chan struct{}),
	}
	e.logs = make(chan logRecord, e.cfg.logQueueSize)
	for _, d := range reg.defs {
		en := &entry{def: d}
		if d.Template {
			e.templates = append(e.templates, en)
		} else {
			e.entries[d.Key] = en
		}
	}
	return e
}

// NewPolicy returns the tracer.TagPolicy for mode: nil for Off (so that
// tracer.WithTagPolicy installs nothing and costs nothing), else an
// Enforcer. Close it (type-assert to *Enforcer) when the tracer shuts down.
func NewPolicy(reg *Registry, mode Mode, opts ...Option) tracer.TagPolicy {
	if mode == Off {
		return nil
	}
	return NewEnforcer(reg, mode, opts...)
}

// PolicyFromEnv is NewPolicy with the registry and mode of
// FLOWTRACE_SEMCONV_REGISTRY and FLOWTRACE_SEMCONV_MODE.
func PolicyFromEnv(opts ...Option) (tracer.TagPolicy, error) {
	mode, err := ModeFromEnv()
	if err != nil || mode == Off {
		return nil, err
	}
	reg, err := FromEnv()
	if err != nil {
		return nil, err
	}
	return NewPolicy(reg, mode, opts...), nil
}

// Mode returns the enforcer's mode.
func (e *Enforcer) Mode() Mode { return e.mode }

// Registry returns the enforcer's registry.
func (e *Enforcer) Registry() *Registry { return e.reg }

// CheckTag implements tracer.TagPolicy. A valid tag costs a map look-up
// and no allocation.
func (e *Enforcer) CheckTag(key string, value any) (any, tracer.TagVerdict) {
	if e.mode == Off {
		return nil, tracer.TagOK
	}
	en := e.entries[key]
	if en == nil {
		en = e.template(key)
		if en == nil {
			e.unknownKey(key, value)
			return nil, e.verdict(tracer.TagDropped)
		}
	}
	d := en.def
	if d.In&InTag == 0 {
		e.report(&en.state, key, Misplaced, value, "")
		return nil, e.verdict(tracer.TagDropped)
	}
	v, res := d.check(value)
	switch res {
	case checkOK:
		if d.Stability == Deprecated {
			e.report(&en.state, key, DeprecatedKey, value, d.ReplacedBy)
			return nil, e.verdict(tracer.TagViolation)
		}
		return nil, tracer.TagOK
	case checkCoerced:
		e.report(&en.state, key, Coerced, value, d.Type.String())
		return v, e.verdict(tracer.TagCoerced)
	case checkWrongType:
		e.report(&en.state, key, WrongType, value, d.Type.String())
	default:
		e.report(&en.state, key, InvalidValue, value, "")
	}
	return nil, e.verdict(tracer.TagDropped)
}

func (e *Enforcer) template(key string) *entry {
	for _, en := range e.templates {
		if len(key) > len(en.def.Key) && strings.HasPrefix(key, en.def.Key) {
			return en
		}
	}
	return nil
}

// verdict turns a strict verdict into the mode's: Warn leaves spans alone.
func (e *Enforcer) verdict(v tracer.TagVerdict) tracer.TagVerdict {
	if e.mode == Strict {
		return v
	}
	return tracer.TagOK
}

// CheckFinish implements tracer.TagPolicy: it counts the tags the span's
// kind requires but the span lacks (see Registry).
func (e *Enforcer) CheckFinish(name string, kind tracer.SpanKind, attrs []tracer.Attribute) int {
	if e.mode == Off {
		return 0
	}
	n := e.reg.missing(kind, attrs)
	if n == 0 {
		return 0
	}
	e.kinds[MissingRequired].Add(uint64(n))
	st := &e.required[kind]
	st.count.Add(uint64(n))
	if e.shouldLog(st) {
		e.log(logRecord{key: "required:" + KindName(kind), violation: MissingRequired, detail: name + ": " + e.describeRequirement(kind, attrs), count: st.count.Load()})
	}
	if e.mode == Strict {
		return n
	}
	return 0
}

func (e *Enforcer) describeRequirement(kind tracer.SpanKind, attrs []tracer.Attribute) string {
	req := e.reg.required[kind]
	var missing []string
	for _, k := range req.always {
		if !hasAttr(attrs, k) {
			missing = append(missing, k)
		}
	}
	var alts []string
	for _, g := range req.groups {
		alts = append(alts, g.name+"("+strings.Join(g.keys, ", ")+")")
	}
	s := "missing " + strings.Join(missing, ", ")
	if len(alts) > 0 {
		s += "; needs one of " + strings.Join(alts, " | ")
	}
	return s
}

func (e *Enforcer) unknownKey(key string, value any) {
	e.mu.RLock()
	st := e.unknown[key]
	e.mu.RUnlock()
	if st == nil {
		e.mu.Lock()
		if st = e.unknown[key]; st == nil {
			if len(e.unknown) < e.cfg.maxUnknown {
				st = &keyState{}
				e.unknown[strings.Clone(key)] = st
			} else {
				st = &e.other
			}
		}
		e.mu.Unlock()
	}
	e.report(st, key, UnknownKey, value, "")
}

func (e *Enforcer) report(st *keyState, key string, v Violation, value any, detail string) {
	e.kinds[v].Add(1)
	n := st.count.Add(1)
	if e.shouldLog(st) {
		if v == UnknownKey {
			if s := e.reg.Suggest(key); s != "" {
				detail = "did you mean " + s + "?"
			}
		}
		e.log(logRecord{key: key, violation: v, value: value, detail: detail, count: n})
	}
}

func (e *Enforcer) shouldLog(st *keyState) bool {
	now := e.cfg.now().UnixNano()
	last := st.lastLog.Load()
	if last != 0 && now-last < int64(e.cfg.interval) {
		return false
	}
	return st.lastLog.CompareAndSwap(last, now)
}

// log hands a record to the logging goroutine without blocking.
func (e *Enforcer) log(r logRecord) {
	if e.closed.Load() {
		return
	}
	e.logOnce.Do(func() { go e.logLoop() })
	select {
	case e.logs <- r:
	default:
	}
}

func (e *Enforcer) logLoop() {
	for {
		select {
		case r := <-e.logs:
			e.write(r)
		case <-e.done:
			return
		}
	}
}

func (e *Enforcer) write(r logRecord) {
	attrs := []slog.Attr{
		// Keys are the caller's input: bounded here, and quoted or escaped
		// by the slog handler, so a key cannot forge log lines.
		slog.String("key", boundedKey(r.key)),
		slog.String("violation", r.violation.String()),
		slog.Uint64("count", r.count),
		slog.String("mode", e.mode.String()),
	}
	if r.violation != MissingRequired {
		attrs = append(attrs, slog.String("value", describeValue(r.value)))
	}
	switch {
	case r.detail == "":
	case r.violation == WrongType || r.violation == Coerced:
		attrs = append(attrs, slog.String("want", r.detail))
	case r.violation == DeprecatedKey:
		attrs = append(attrs, slog.String("replaced_by", r.detail))
	default:
		attrs = append(attrs, slog.String("detail", r.detail))
	}
	e.cfg.logger.LogAttrs(context.Background(), slog.LevelWarn, "semconv: tag violates conventions", attrs...)
}

// describeValue shows immutable values and only the type of anything else:
// the caller may still change it.
func describeValue(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 64 {
			v = v[:64] + "…"
		}
		return fmt.Sprintf("%q (string)", v)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, ext.SpanKindEnum:
		return fmt.Sprintf("%v (%T)", v, v)
	}
	return fmt.Sprintf("(%T)", v)
}

// Close stops the logging goroutine, if one was started. Checks keep
// counting after Close but log nothing.
func (e *Enforcer) Close() error {
	e.closeOnce.Do(func() {
		e.closed.Store(true)
		close(e.done)
	})
	return nil
}

// Stats returns the violation counts so far.
func (e *Enforcer) Stats() Stats {
	s := Stats{ByKind: map[Violation]uint64{}, ByKey: map[string]uint64{}}
	for i := range e.kinds {
		if n := e.kinds[i].Load(); n > 0 {
			s.ByKind[Violation(i)] = n
		}
	}
	add := func(k string, st *keyState) {
		if n := st.count.Load(); n > 0 {
			s.ByKey[k] += n
		}
	}
	for k, en := range e.entries {
		add(k, &en.state)
	}
	for _, en := range e.templates {
		add(en.def.DisplayKey(), &en.state)
	}
	for k := range e.required {
		add("required:"+KindName(tracer.SpanKind(k)), &e.required[k])
	}
	e.mu.RLock()
	for k, st := range e.unknown {
		add(k, st)
	}
	e.mu.RUnlock()
	add(OtherKeys, &e.other)
	return s
}

type checkResult uint8

const (
	checkOK checkResult = iota
	checkCoerced
	checkWrongType
	checkInvalid
)

// maxExactFloat is the largest magnitude below which every integer is a
// float64.
const maxExactFloat = 1 << 53

// check judges value against d's type and allowed values. It allocates only
// to return a coerced value or to stringify a non-string value for a
// string tag.
func (d *Definition) check(value any) (any, checkResult) {
	switch d.Type {
	case TypeString:
		return d.checkString(value)
	case TypeInt:
		return d.checkInt(value)
	case TypeFloat:
		return d.checkFloat(value)
	case TypeBool:
		return d.checkBool(value)
	}
	return nil, checkWrongType
}

func (d *Definition) checkString(value any) (any, checkResult) {
	var s string
	res := checkOK
	switch v := value.(type) {
	case string:
		s = v
	case ext.SpanKindEnum:
		s = string(v)
	case []byte:
		s = string(v)
	case error:
		s = v.Error()
	case fmt.Stringer:
		s = v.String()
	case bool:
		s, res = strconv.FormatBool(v), checkCoerced
	case int, int8, int16, int32, int64:
		i, _ := asInt64(v)
		s, res = strconv.FormatInt(i, 10), checkCoerced
	case uint, uint8, uint16, uint32, uint64:
		u, _ := asUint64(v)
		s, res = strconv.FormatUint(u, 10), checkCoerced
	case float32:
		s, res = strconv.FormatFloat(float64(v), 'g', -1, 32), checkCoerced
	case float64:
		s, res = strconv.FormatFloat(v, 'g', -1, 64), checkCoerced
	default:
		return nil, checkWrongType
	}
	if !d.validString(s) {
		return nil, checkInvalid
	}
	if res == checkCoerced {
		return s, res
	}
	return nil, checkOK
}

func (d *Definition) validString(s string) bool {
	if len(d.enumStr) > 0 {
		for _, e := range d.enumStr {
			if e == s {
				return true
			}
		}
		return false
	}
	return d.Pattern == nil || d.Pattern.MatchString(s)
}

func asInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

func asUint64(v any) (uint64, bool) {
	switch v := v.(type) {
	case uint:
		return uint64(v), true
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	}
	return 0, false
}

func (d *Definition) checkInt(value any) (any, checkResult) {
	if i, ok := asInt64(value); ok {
		return nil, d.intInEnum(i, true)
	}
	if u, ok := asUint64(value); ok {
		return nil, d.intInEnum(int64(u), u <= math.MaxInt64)
	}
	var i int64
	switch v := value.(type) {
	case float32:
		f := float64(v)
		if f != math.Trunc(f) || math.Abs(f) >= math.MaxInt64 {
			return nil, checkWrongType
		}
		i = int64(f)
	case float64:
		if v != math.Trunc(v) || math.Abs(v) >= math.MaxInt64 {
			return nil, checkWrongType
		}
		i = int64(v)
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, checkWrongType
		}
		i = n
	default:
		return nil, checkWrongType
	}
	if r := d.intInEnum(i, true); r != checkOK {
		return nil, r
	}
	return i, checkCoerced
}

func (d *Definition) intInEnum(i int64, fits bool) checkResult {
	if len(d.enumInt) == 0 {
		return checkOK
	}
	if fits {
		for _, e := range d.enumInt {
			if e == i {
				return checkOK
			}
		}
	}
	return checkInvalid
}

func (d *Definition) checkFloat(value any) (any, checkResult) {
	var f float64
	switch v := value.(type) {
	case float64:
		return nil, d.floatInEnum(v)
	case float32:
		return nil, d.floatInEnum(float64(v))
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, checkWrongType
		}
		f = n
	default:
		if i, ok := asInt64(value); ok && i > -maxExactFloat && i < maxExactFloat {
			f = float64(i)
		} else if u, ok := asUint64(value); ok && u < maxExactFloat {
			f = float64(u)
		} else {
			return nil, checkWrongType
		}
	}
	if r := d.floatInEnum(f); r != checkOK {
		return nil, r
	}
	return f, checkCoerced
}

func (d *Definition) floatInEnum(f float64) checkResult {
	if len(d.enumFloat) == 0 {
		return checkOK
	}
	for _, e := range d.enumFloat {
		if e == f {
			return checkOK
		}
	}
	return checkInvalid
}

func (d *Definition) checkBool(value any) (any, checkResult) {
	var b bool
	switch v := value.(type) {
	case bool:
		return nil, d.boolInEnum(v)
	case string:
		switch v {
		case "true":
			b = true
		case "false":
		default:
			return nil, checkWrongType
		}
	default:
		return nil, checkWrongType
	}
	if r := d.boolInEnum(b); r != checkOK {
		return nil, r
	}
	return b, checkCoerced
}

func (d *Definition) boolInEnum(b bool) checkResult {
	if len(d.enumBool) == 0 {
		return checkOK
	}
	for _, e := range d.enumBool {
		if e == b {
			return checkOK
		}
	}
	return checkInvalid
}

// boundedKey cuts a tag key for a log line and keeps it valid UTF-8.
func boundedKey(k string) string {
	const max = 128
	if len(k) > max {
		k = k[:max] + "…"
	}
	return strings.ToValidUTF8(k, "\uFFFD")
}
