package propagation

import (
	"fmt"
	"strings"
	"sync"
)

var registry = struct {
	sync.RWMutex
	m map[string]Propagator
}{m: map[string]Propagator{}}

func init() {
	Register("tracecontext", TraceContext{})
	Register("baggage", W3CBaggage{})
	Register("b3", B3{})
	Register("b3multi", B3Multi{})
	Register("jaeger", Jaeger{})
	Register("flowid", FlowID{})
	Register("none", None{})
}

// defaultPropagator is built once: Default is on the request path.
var defaultPropagator = Composite(TraceContext{}, W3CBaggage{}, FlowID{})

// Default returns the composite of tracecontext, baggage and flowid.
func Default() Propagator { return defaultPropagator }

func normalizeName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Register makes p available under name (matched case-insensitively, as in
// OTEL_PROPAGATORS). Registering an empty name, a nil propagator or a name
// twice is a programming error and panics.
func Register(name string, p Propagator) {
	n := normalizeName(name)
	if n == "" {
		panic("propagation: Register with empty name")
	}
	if p == nil {
		panic(fmt.Sprintf("propagation: Register(%q) with nil propagator", name))
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[n]; dup {
		panic(fmt.Sprintf("propagation: propagator %q registered twice", n))
	}
	registry.m[n] = p
}

// Lookup returns the propagator registered under name.
func Lookup(name string) (Propagator, bool) {
	registry.RLock()
	defer registry.RUnlock()
	p, ok := registry.m[normalizeName(name)]
	return p, ok
}

// FromNames returns the composite of the named propagators, in order, and
// the names it does not know. Names are trimmed and matched
// case-insensitively; empty names and repeats are skipped. "none" anywhere
// in the list yields [None] (the other names are still checked). An empty
// list yields [Default].
func FromNames(names []string) (Propagator, []string) {
	var ps []Propagator
	var unknown []string
	seen := make(map[string]bool, len(names))
	none, named := false, false
	for _, name := range names {
		n := normalizeName(name)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		named = true
		p, ok := Lookup(n)
		switch {
		case !ok:
			unknown = append(unknown, name)
		case n == "none":
			none = true
		default:
			ps = append(ps, p)
		}
	}
	switch {
	case none:
		return None{}, unknown
	case !named:
		return Default(), nil
	}
	return Composite(ps...), unknown
}
