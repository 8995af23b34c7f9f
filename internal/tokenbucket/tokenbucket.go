package tokenbucket

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Rate is a bucket's refill rate and capacity.
type Rate struct {
	PerSecond float64 // tokens gained per second; > 0
	Burst     float64 // most tokens held; at least 1 for anything to pass
}

// PerSecond returns the rate flowtrace uses everywhere: perSecond tokens a
// second and a bucket holding one second's worth, but at least one token,
// so that rates below one a second still let a call through now and then.
func PerSecond(perSecond float64) Rate {
	return Rate{PerSecond: perSecond, Burst: math.Max(1, perSecond)}
}

// Valid reports whether r limits anything: a positive, finite rate.
func (r Rate) Valid() bool {
	return r.PerSecond > 0 && !math.IsInf(r.PerSecond, 0) && r.Burst >= 1 && !math.IsInf(r.Burst, 0)
}

// Bucket is the state of one token bucket. The zero value is a bucket not
// used yet (full on first use). It does no locking: the owner guards it.
type Bucket struct {
	tokens float64
	last   time.Time
}

// Take refills b for the time since its last use and takes one token if
// there is one.
func (b *Bucket) Take(r Rate, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens, b.last = r.Burst, now
	}
	// A clock that steps back adds nothing and takes nothing: last stays at
	// the latest time seen, so the refill resumes once the clock passes it.
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(r.Burst, b.tokens+d.Seconds()*r.PerSecond)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Entry is a keyed bucket and its caller-defined value V. Lock Mu around
// any use of Bucket and Value.
type Entry[V any] struct {
	Mu     sync.Mutex
	Bucket Bucket
	Value  V
}

// Table maps keys to entries, at most Max of them; further keys share the
// overflow entry. The zero value is not usable: use NewTable. It is safe
// for concurrent use.
type Table[V any] struct {
	max      int64
	ops      sync.Map // string -> *Entry[V]
	count    atomic.Int64
	overflow Entry[V]
}

// NewTable returns a table of at most maxKeys keys of their own (at least 1).
func NewTable[V any](maxKeys int) *Table[V] {
	return &Table[V]{max: int64(max(1, maxKeys))}
}

// Get returns key's entry, or the shared overflow entry once the table is
// full.
func (t *Table[V]) Get(key string) *Entry[V] {
	if e, ok := t.ops.Load(key); ok {
		return e.(*Entry[V])
	}
	if t.count.Load() >= t.max {
		return &t.overflow
	}
	e, loaded := t.ops.LoadOrStore(key, &Entry[V]{})
	if !loaded {
		// Two goroutines may pass the bound check together: the table can
		// exceed max by the number of concurrent first uses, never more.
		t.count.Add(1)
	}
	return e.(*Entry[V])
}

// Len returns how many keys have an entry of their own.
func (t *Table[V]) Len() int { return int(t.count.Load()) }

// Limiter is a Table of plain buckets with one rate and a clock: Allow(key)
// takes a token of key's bucket. A nil *Limiter allows everything.
type Limiter struct {
	rate  Rate
	now   func() time.Time
	table *Table[struct{}]
}

// NewLimiter returns a limiter of rate r per key for at most maxKeys keys,
// reading the time from now (nil: time.Now). A rate that limits nothing
// (see Rate.Valid) gives nil, which allows everything.
func NewLimiter(r Rate, maxKeys int, now func() time.Time) *Limiter {
	if !r.Valid() {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: r, now: now, table: NewTable[struct{}](maxKeys)}
}

// Allow takes a token of key's bucket and reports whether there was one.
func (l *Limiter) Allow(key string) bool {
	if l == nil {
		return true
	}
	e := l.table.Get(key)
	now := l.now()
	e.Mu.Lock()
	ok := e.Bucket.Take(l.rate, now)
	e.Mu.Unlock()
	return ok
}

// Keys returns how many keys have a bucket of their own.
func (l *Limiter) Keys() int {
	if l == nil {
		return 0
	}
	return l.table.Len()
}
