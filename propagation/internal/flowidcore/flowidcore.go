// Package flowidcore holds the flow id rules shared by package propagation
// (which implements the X-Flow-ID propagator) and package propagation/flowid
// (the public helpers), so that neither imports the other's internals.
package flowidcore

// BaggageKey is the baggage member that carries the flow id.
const BaggageKey = "flow_id"

// MaxLen is the longest valid flow id, in bytes.
const MaxLen = 128

var allowed = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "._~+/=:-" {
		t[c] = true
	}
	return t
}()

// Allowed reports whether c may appear in a flow id.
func Allowed(c byte) bool { return allowed[c] }

// Valid reports whether s is 1 to MaxLen bytes of [A-Za-z0-9._~+/=:-].
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !allowed[s[i]] {
			return false
		}
	}
	return true
}
