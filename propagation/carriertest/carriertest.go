package carriertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flowtrace/flowtrace/propagation"
)

// Option changes what Run expects of a carrier.
type Option interface{ apply(*config) }

type config struct{ caseInsensitive bool }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// CaseInsensitive declares that the transport matches keys regardless of
// case (HTTP headers, gRPC metadata): Get must find a key Set in another
// case, and Set in another case must replace it.
func CaseInsensitive() Option { return optionFunc(func(c *config) { c.caseInsensitive = true }) }

// Run runs the checks as subtests. newCarrier must return an empty carrier
// each time it is called.
func Run(t *testing.T, newCarrier func() propagation.Carrier, opts ...Option) {
	t.Helper()
	for _, c := range checks(opts) {
		t.Run(c.name, func(t *testing.T) {
			if err := c.fn(newCarrier()); err != nil {
				t.Error(err)
			}
		})
	}
}

// Test runs the checks and returns the failures joined, or nil.
func Test(newCarrier func() propagation.Carrier, opts ...Option) error {
	var errs []string
	for _, c := range checks(opts) {
		if err := c.fn(newCarrier()); err != nil {
			errs = append(errs, c.name+": "+err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("carriertest: %s", strings.Join(errs, "; "))
	}
	return nil
}

type check struct {
	name string
	fn   func(propagation.Carrier) error
}

func checks(opts []Option) []check {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	keyEq := func(a, b string) bool { return a == b }
	if cfg.caseInsensitive {
		keyEq = strings.EqualFold
	}
	count := func(keys []string, key string) int {
		n := 0
		for _, k := range keys {
			if keyEq(k, key) {
				n++
			}
		}
		return n
	}
	cs := []check{
		{"empty", func(c propagation.Carrier) error {
			if v := c.Get("traceparent"); v != "" {
				return fmt.Errorf("carrier Get on empty carrier = %q, want \"\"", v)
			}
			if k := c.Keys(); len(k) != 0 {
				return fmt.Errorf("carrier Keys on empty carrier = %q, want none", k)
			}
			return nil
		}},
		{"get after set", func(c propagation.Carrier) error {
			c.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			if v := c.Get("traceparent"); v != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" {
				return fmt.Errorf("carrier Get after Set = %q", v)
			}
			if v := c.Get("tracestate"); v != "" {
				return fmt.Errorf("carrier Get of a key not set = %q", v)
			}
			return nil
		}},
		{"set replaces", func(c propagation.Carrier) error {
			c.Set("baggage", "a=1")
			c.Set("baggage", "b=2")
			if v := c.Get("baggage"); v != "b=2" {
				return fmt.Errorf("carrier Get after two Sets = %q, want the second value", v)
			}
			if n := count(c.Keys(), "baggage"); n != 1 {
				return fmt.Errorf("carrier Keys lists the key %d times after two Sets, want 1", n)
			}
			if mv, ok := c.(propagation.MultiValueCarrier); ok {
				if v := mv.Values("baggage"); !slices.Equal(v, []string{"b=2"}) {
					return fmt.Errorf("carrier Values after two Sets = %q, want [b=2]", v)
				}
			}
			return nil
		}},
		{"keys", func(c propagation.Carrier) error {
			want := []string{"traceparent", "tracestate", "baggage", "x-flow-id"}
			for _, k := range want {
				c.Set(k, "v-"+k)
			}
			keys := c.Keys()
			for _, k := range want {
				if n := count(keys, k); n != 1 {
					return fmt.Errorf("carrier Keys() = %q lists %q %d times, want once", keys, k, n)
				}
			}
			if len(keys) != len(want) {
				return fmt.Errorf("carrier Keys() = %q, want %d keys", keys, len(want))
			}
			for _, k := range keys {
				if v := c.Get(k); v == "" {
					return fmt.Errorf("carrier Get(%q) of a key from Keys = \"\"", k)
				}
			}
			return nil
		}},
		{"empty value", func(c propagation.Carrier) error {
			c.Set("tracestate", "x=1")
			c.Set("tracestate", "")
			if v := c.Get("tracestate"); v != "" {
				return fmt.Errorf("carrier Get after Set to \"\" = %q", v)
			}
			return nil
		}},
	}
	if cfg.caseInsensitive {
		cs = append(cs, check{"case insensitive", func(c propagation.Carrier) error {
			c.Set("X-Flow-ID", "abc")
			for _, k := range []string{"x-flow-id", "X-FLOW-ID", "X-Flow-Id"} {
				if v := c.Get(k); v != "abc" {
					return fmt.Errorf("carrier Get(%q) after Set(\"X-Flow-ID\") = %q", k, v)
				}
			}
			c.Set("x-flow-id", "def")
			if v := c.Get("X-Flow-ID"); v != "def" {
				return fmt.Errorf("carrier Set in another case did not replace: Get = %q", v)
			}
			if n := count(c.Keys(), "x-flow-id"); n != 1 {
				return fmt.Errorf("carrier Keys lists x-flow-id %d times after Sets in two cases, want 1", n)
			}
			return nil
		}})
	}
	return cs
}
