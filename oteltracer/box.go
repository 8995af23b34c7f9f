package oteltracer

import (
	"hash/maphash"
	"sync/atomic"
)

// Storing an OpenTelemetry string attribute as a flowtrace tag value puts
// it in an interface, which allocates for every non-constant string, and
// attribute values are never constants to the compiler. An OpenTracing
// caller's SetTag("db.system", "postgresql") costs nothing, since a
// constant's interface is static. Instrumentation repeats a few short
// values (methods, systems, routes, peer names) on every span, so each
// value seen twice is kept boxed in a small table, and later spans reuse
// its interface value. A value seen once costs what it did; a long value
// (statements, URLs) is never kept.

const (
	boxSlots    = 512
	maxBoxedLen = 64
)

type boxed struct {
	s string
	v any
}

type boxSlot struct {
	// seen is the hash of the last value that missed this slot: a value
	// is kept the second time it misses, so one-off values (ids) never
	// cost an entry.
	seen atomic.Uint64
	e    atomic.Pointer[boxed]
}

var (
	boxSeed  = maphash.MakeSeed()
	boxTable [boxSlots]boxSlot
)

// boxString returns s as an interface value, from the table when it is
// there.
func boxString(s string) any {
	if len(s) == 0 || len(s) > maxBoxedLen {
		return s
	}
	h := maphash.String(boxSeed, s)
	slot := &boxTable[h%boxSlots]
	if e := slot.e.Load(); e != nil && e.s == s {
		return e.v
	}
	v := any(s)
	if slot.seen.Swap(h) == h {
		slot.e.Store(&boxed{s: s, v: v})
	}
	return v
}
