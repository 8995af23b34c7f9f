package trace

import "time"

// Defaults of an [Assembler].
const (
	// DefaultWindow is the number of spans of other traces after which a
	// trace that has received none is complete. Exporters write a trace's spans
	// within seconds of each other; 50,000 spans is many seconds of a busy
	// service's output, and about 55 MB of spans held.
	DefaultWindow = 50_000
	// RecallClosed is how many closed trace ids an Assembler remembers to
	// recognise a late span of a closed trace (counted in
	// [AssemblyStats.Split]); a span later than that starts a trace that
	// is not counted as split.
	RecallClosed = 1 << 16
)

// AssemblyStats says how an [Assembler] grouped its spans.
type AssemblyStats struct {
	Spans  int // spans added
	Traces int // traces emitted, each fragment of a split trace counted
	// Split counts the pieces of traces emitted after their first piece:
	// a span came after its trace had been closed by the window, the
	// held-span bound or the idle time. Each piece is analysed as a trace of its own (a
	// client span in one piece and its server child in the other are an
	// unpaired call), so a non-zero Split means a larger window is needed.
	Split int
	// Forced counts traces closed early because MaxHeld spans were held.
	Forced int
	// Idle counts traces closed by [Assembler.Expire].
	Idle int
	// MaxHeld is the largest number of spans held at once.
	MaxHeld int
}

// AssembleOption configures an [Assembler].
type AssembleOption interface{ apply(*assembleConfig) }

type assembleOptionFunc func(*assembleConfig)

func (f assembleOptionFunc) apply(c *assembleConfig) { f(c) }

type assembleConfig struct {
	window, maxHeld int
	idle            time.Duration
	now             func() time.Time
}

// WithWindow sets the window in spans (DefaultWindow when n <= 0): a trace
// is complete once n spans of other traces have been added since its last
// one. A trace whose spans are never more than n-1 other spans apart is
// assembled whole.
func WithWindow(n int) AssembleOption {
	return assembleOptionFunc(func(c *assembleConfig) {
		if n > 0 {
			c.window = n
		}
	})
}

// WithMaxHeld bounds the spans held at once (twice the window when n <= 0).
// A stream whose traces stay open (each receives a span within every
// window) would otherwise grow without bound; past the bound the least
// recently extended trace is closed and counted in [AssemblyStats.Forced].
func WithMaxHeld(n int) AssembleOption {
	return assembleOptionFunc(func(c *assembleConfig) {
		if n > 0 {
			c.maxHeld = n
		}
	})
}

// WithIdle makes [Assembler.Expire] close traces that received no span for
// d, for live sources where spans arrive over time; now is the clock (nil
// for time.Now). Without it Expire does nothing.
func WithIdle(d time.Duration, now func() time.Time) AssembleOption {
	return assembleOptionFunc(func(c *assembleConfig) {
		c.idle = d
		if now != nil {
			c.now = now
		}
	})
}

// Assembler groups a stream of spans into traces in bounded memory, as a
// collector's tail-sampling processor does: a trace is complete when
// Window spans have been added without one of it, when [Assembler.Expire]
// finds it idle, or at [Assembler.Close]. Each complete trace is passed to
// the emit function given to [NewAssembler], in the order the traces were
// completed. An Assembler is not safe for concurrent use.
type Assembler struct {
	cfg        assembleConfig
	emit       func(*Trace)
	open       map[string]*pending
	head, tail *pending // open traces, least recently extended first
	seq        int64
	held       int
	stats      AssemblyStats

	closed     map[string]int // recently closed ids (entries in closedRing), for Split
	closedRing []string
	closedNext int
}

type pending struct {
	id         string
	spans      []*Span
	last       int64
	lastAt     time.Time
	prev, next *pending
}

// NewAssembler returns an Assembler that passes each complete trace to
// emit.
func NewAssembler(emit func(*Trace), opts ...AssembleOption) *Assembler {
	cfg := assembleConfig{window: DefaultWindow, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.maxHeld <= 0 {
		cfg.maxHeld = 2 * cfg.window
	}
	return &Assembler{cfg: cfg, emit: emit, open: map[string]*pending{}, closed: map[string]int{},
		closedRing: make([]string, 0, min(RecallClosed, 1024))}
}

// Add adds one span; it may complete traces (and call emit) first.
func (a *Assembler) Add(s *Span) {
	a.seq++
	a.stats.Spans++
	p := a.open[s.TraceID]
	if p == nil {
		p = &pending{id: s.TraceID}
		if a.closed[s.TraceID] > 0 {
			a.stats.Split++
		}
		a.open[s.TraceID] = p
	} else {
		a.unlink(p)
	}
	p.spans = append(p.spans, s)
	p.last = a.seq
	if a.cfg.idle > 0 {
		p.lastAt = a.cfg.now()
	}
	a.pushBack(p)
	a.held++
	a.stats.MaxHeld = max(a.stats.MaxHeld, a.held)
	for a.head != nil && a.seq-a.head.last >= int64(a.cfg.window) {
		a.finish(a.head)
	}
	for a.held > a.cfg.maxHeld && a.head != nil {
		a.stats.Forced++
		a.finish(a.head)
	}
}

// AddAll adds spans in order.
func (a *Assembler) AddAll(spans []*Span) {
	for _, s := range spans {
		a.Add(s)
	}
}

// Expire completes the traces that received no span for the idle time
// given by [WithIdle]; a live source calls it from time to time.
func (a *Assembler) Expire() {
	if a.cfg.idle <= 0 {
		return
	}
	cutoff := a.cfg.now().Add(-a.cfg.idle)
	for a.head != nil && !a.head.lastAt.After(cutoff) {
		a.stats.Idle++
		a.finish(a.head)
	}
}

// Close completes every open trace (end of input).
func (a *Assembler) Close() {
	for a.head != nil {
		a.finish(a.head)
	}
}

// Held returns the number of spans held.
func (a *Assembler) Held() int { return a.held }

// Stats returns the counts so far.
func (a *Assembler) Stats() AssemblyStats { return a.stats }

func (a *Assembler) finish(p *pending) {
	a.unlink(p)
	delete(a.open, p.id)
	a.held -= len(p.spans)
	a.remember(p.id)
	a.stats.Traces++
	t := New(p.id, p.spans)
	p.spans = nil
	a.emit(t)
}

func (a *Assembler) remember(id string) {
	if len(a.closedRing) < RecallClosed {
		a.closedRing = append(a.closedRing, id)
	} else {
		old := a.closedRing[a.closedNext]
		if a.closed[old]--; a.closed[old] <= 0 {
			delete(a.closed, old)
		}
		a.closedRing[a.closedNext] = id
		a.closedNext = (a.closedNext + 1) % RecallClosed
	}
	a.closed[id]++
}

func (a *Assembler) unlink(p *pending) {
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		a.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		a.tail = p.prev
	}
	p.prev, p.next = nil, nil
}

func (a *Assembler) pushBack(p *pending) {
	p.prev = a.tail
	if a.tail != nil {
		a.tail.next = p
	} else {
		a.head = p
	}
	a.tail = p
}

// A Step runs on each assembled trace before the tools aggregate it: a
// correction returns the corrected trace, a filter returns nil to drop it.
type Step func(*Trace) *Trace

// Chain returns a function that runs steps in order on a trace and passes
// the result, unless a step dropped it, to emit.
func Chain(emit func(*Trace), steps ...Step) func(*Trace) {
	return func(t *Trace) {
		for _, s := range steps {
			if s == nil {
				continue
			}
			if t = s(t); t == nil {
				return
			}
		}
		emit(t)
	}
}

// ExcludeTrafficStep is the [Step] form of [ExcludeTraffic].
func ExcludeTrafficStep(sources ...string) Step {
	if len(sources) == 0 {
		return nil
	}
	return func(t *Trace) *Trace {
		if len(ExcludeTraffic([]*Trace{t}, sources...)) == 0 {
			return nil
		}
		return t
	}
}
