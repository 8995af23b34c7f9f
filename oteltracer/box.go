package oteltracer

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
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
//
// Instrumentation mostly builds its attributes once and passes the same
// strings on every span, so a second table, indexed by the address of a
// string's bytes, finds those without hashing them. Its entries hold their
// string, so the bytes at that address cannot be reused for another string
// while the entry is there: the same address and length is the same value.

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
	// addrTable is indexed by the address of a value's bytes.
	addrTable [boxSlots]atomic.Pointer[boxed]
)

// boxString returns s as an interface value, from the table when it is
// there.
func boxString(s string) any {
	if len(s) == 0 || len(s) > maxBoxedLen {
		return s
	}
	p := unsafe.StringData(s)
	a := uintptr(unsafe.Pointer(p))
	as := &addrTable[(a>>3^a>>12)%boxSlots]
	if e := as.Load(); e != nil && unsafe.StringData(e.s) == p && len(e.s) == len(s) {
		return e.v
	}
	h := maphash.String(boxSeed, s)
	slot := &boxTable[h%boxSlots]
	if e := slot.e.Load(); e != nil && e.s == s {
		if unsafe.StringData(e.s) == p {
			// Found by address from now on. (The same value built anew
			// for each span is only ever found by its hash.)
			as.Store(e)
		}
		return e.v
	}
	v := any(s)
	if slot.seen.Swap(h) == h {
		e := &boxed{s: s, v: v}
		slot.e.Store(e)
		as.Store(e)
	}
	return v
}

// smallInts are the interface values of the int64s 0 to 255: the runtime
// boxes those without allocating too, but in a call (convT64) per value.
var smallInts = func() (t [256]any) {
	for i := range t {
		t[i] = int64(i)
	}
	return t
}()

// boxInt64 returns v as an interface value.
func boxInt64(v int64) any {
	if uint64(v) < uint64(len(smallInts)) {
		return smallInts[v]
	}
	return v
}
