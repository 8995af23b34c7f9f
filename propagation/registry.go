package propagation

import (
	"fmt"
	"sort"
	"strconv"
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

// Selection is what the registry made of a list of propagator names such
// as OTEL_PROPAGATORS: the one place where names are resolved.
type Selection struct {
	// Propagator is the composite of the names in effect.
	Propagator Propagator
	// Names are the names in effect, normalized, in order: ["none"] when
	// propagation is off.
	Names []string
	// Unknown are the names not registered, as given.
	Unknown []string
	// Ignored are registered names left out because "none" is in the list.
	Ignored []string
	// Defaulted reports that no name in the list was usable (all unknown,
	// or none given), so [Default] is in effect.
	Defaulted bool

	flow FlowID // the selection's own flow-id propagator, if any
}

// FlowIDStats returns the counts of the selection's flowid propagator
// (zero when it has none): each Select makes its own, so that two
// flowtrace.Start in one process count apart.
func (s Selection) FlowIDStats() FlowIDStats { return s.flow.Stats() }

// defaultNames are the names of [Default].
var defaultNames = []string{"tracecontext", "baggage", "flowid"}

// Select resolves names with the one name policy:
//
//   - Names are trimmed and matched case-insensitively; empty names and
//     repeats are skipped.
//   - A name not registered is left out and reported in Unknown.
//   - "none" anywhere in the list turns propagation off: the result is
//     [None], and the other registered names are reported in Ignored (an
//     explicit "none" is taken at its word rather than guessed away).
//   - A list with no registered name at all (empty, or only unknown names)
//     yields [Default], as any other malformed setting keeps its default:
//     a typo must not switch propagation off silently.
func Select(names []string) Selection {
	var sel Selection
	var ps []Propagator
	seen := make(map[string]bool, len(names))
	none := false
	for _, name := range names {
		n := normalizeName(name)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		p, ok := Lookup(n)
		switch {
		case !ok:
			sel.Unknown = append(sel.Unknown, strings.TrimSpace(name))
		case n == "none":
			none = true
		default:
			if _, ok := p.(FlowID); ok {
				sel.flow = NewFlowID()
				p = sel.flow
			}
			ps = append(ps, p)
			sel.Names = append(sel.Names, n)
		}
	}
	switch {
	case none:
		sel.Propagator, sel.Ignored, sel.Names = None{}, sel.Names, []string{"none"}
	case len(ps) == 0:
		sel.flow = NewFlowID()
		sel.Propagator, sel.Names, sel.Defaulted = Composite(TraceContext{}, W3CBaggage{}, sel.flow), append([]string(nil), defaultNames...), true
	default:
		sel.Propagator = Composite(ps...)
	}
	return sel
}

// maxWarnedName bounds each name quoted in a warning: names come from the
// environment.
const maxWarnedName = 64

// Warning is one line that says what the selection left out, or "" when it
// used every name. Names are quoted with Go escapes and bounded, so the
// line is safe to log.
func (s Selection) Warning() string {
	var parts []string
	if len(s.Unknown) > 0 {
		parts = append(parts, fmt.Sprintf("unknown propagator %s left out (registered: %s)",
			quoteNames(s.Unknown), strings.Join(Names(), ", ")))
	}
	if len(s.Ignored) > 0 {
		parts = append(parts, fmt.Sprintf(`"none" turns propagation off; %s ignored`, quoteNames(s.Ignored)))
	}
	if len(parts) == 0 {
		return ""
	}
	if s.Defaulted {
		parts = append(parts, "using the default "+strings.Join(defaultNames, ","))
	}
	return strings.Join(parts, "; ")
}

func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		if len(n) > maxWarnedName {
			n = n[:maxWarnedName] + "..."
		}
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// Names returns the registered names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FromNames returns the composite of the named propagators and the names
// it does not know, following the policy of [Select].
func FromNames(names []string) (Propagator, []string) {
	sel := Select(names)
	return sel.Propagator, sel.Unknown
}
