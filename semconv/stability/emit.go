package stability

import "github.com/opentracing/opentracing-go"

// Emitter sets a transport's tags on one kind of span in the vocabulary
// the switch chose for its category. The zero Emitter emits legacy names.
type Emitter struct {
	emit Emit
	cat  Category
	kind Kind
}

// Emitter returns the emitter for category c on spans of kind k.
func (o OptIn) Emitter(c Category, k Kind) Emitter {
	return Emitter{emit: o.For(c), cat: c, kind: k}
}

// Legacy reports whether the legacy names are emitted.
func (e Emitter) Legacy() bool { return e.emit.HasLegacy() }

// Stable reports whether the stable names are emitted.
func (e Emitter) Stable() bool { return e.emit.HasStable() }

// Set sets the tag key (a legacy name) to v on sp, as the legacy name, its
// stable successors (Table) or both. A key the table does not list is set
// in every mode. In the default (legacy) mode Set is sp.SetTag.
func (e Emitter) Set(sp opentracing.Span, key string, v any) {
	if !e.Stable() {
		sp.SetTag(key, v)
		return
	}
	r := Lookup(e.cat, e.kind, key)
	if r == nil {
		sp.SetTag(key, v)
		return
	}
	if e.Legacy() {
		// With /dup a key shared by both vocabularies (rpc.method) takes
		// the stable value, set below.
		if len(r.Stable) == 0 || r.Stable[0] != key {
			sp.SetTag(key, v)
		}
	}
	var buf [4]any
	kv := r.Convert(buf[:0], v)
	for i := 0; i+1 < len(kv); i += 2 {
		sp.SetTag(kv[i].(string), kv[i+1])
	}
}

// SetStable sets a stable key with no legacy counterpart (url.query), only
// when stable names are emitted.
func (e Emitter) SetStable(sp opentracing.Span, key string, v any) {
	if e.Stable() {
		sp.SetTag(key, v)
	}
}
