// Package edge holds the per-operation rate cap on forced sampling that
// the instrumentation engine (middleware/internal/instr) applies to
// critical operations; the decisions themselves live in the engine.
package edge

import (
	"time"

	"github.com/flowtrace/flowtrace/internal/tokenbucket"
)

// DefaultMaxOperations bounds the table of a Limiter: operation names
// beyond it share one overflow budget.
const DefaultMaxOperations = 256

// Limiter caps, per critical operation, how many requests a second the
// edge forces into sampling: a token bucket per name holding up to one
// second of tokens (at least one), from internal/tokenbucket, the same
// bucket the sampler's per-operation rate limit uses. A nil *Limiter allows
// everything. It is safe for concurrent use.
type Limiter struct{ l *tokenbucket.Limiter }

// NewLimiter returns a limiter of perSecond forced samples per operation
// and at most maxOperations names (DefaultMaxOperations when <= 0). now
// is the clock (nil: time.Now). A perSecond that is not a positive finite
// number means no cap: NewLimiter returns nil.
func NewLimiter(perSecond float64, maxOperations int, now func() time.Time) *Limiter {
	if maxOperations <= 0 {
		maxOperations = DefaultMaxOperations
	}
	l := tokenbucket.NewLimiter(tokenbucket.PerSecond(perSecond), maxOperations, now)
	if l == nil {
		return nil
	}
	return &Limiter{l: l}
}

// Allow takes a token of op's bucket and reports whether there was one.
func (l *Limiter) Allow(op string) bool {
	if l == nil {
		return true
	}
	return l.l.Allow(op)
}

// Operations returns how many names have a budget of their own.
func (l *Limiter) Operations() int {
	if l == nil {
		return 0
	}
	return l.l.Keys()
}
