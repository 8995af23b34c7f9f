package semconv

import (
	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/log"

	"github.com/flowtrace/flowtrace/semconv/stability"
)

// migration returns the row of stability.Table a helper's Set follows for
// key under the process-wide switch (stability.Default): only rows that do
// not depend on span kind (the database ones, http.method, ...), since a
// helper does not know its span's kind; the middleware, which does, uses
// stability.Emitter. Nil in the default (legacy) mode, at the cost of one
// atomic load.
func migration(key string) (stability.Emitter, bool) {
	o := stability.Default()
	if o.IsDefault() {
		return stability.Emitter{}, false
	}
	for _, c := range []stability.Category{stability.HTTP, stability.Database, stability.RPC, stability.Messaging} {
		if !o.For(c).HasStable() {
			continue
		}
		if r := stability.Lookup(c, stability.AnyKind, key); r != nil && r.Kind == stability.AnyKind {
			return o.Emitter(c, stability.AnyKind), true
		}
	}
	return stability.Emitter{}, false
}

// set sets key to v on span, following the switch (see migration).
func set(span opentracing.Span, key string, v any) {
	if e, ok := migration(key); ok {
		e.Set(span, key, v)
		return
	}
	span.SetTag(key, v)
}

// tagKey is the key a helper's Tag uses: the stable successor when the
// switch asks for stable names only and the row renames the key; a start
// option holds one tag, so with /dup it stays the legacy key (use Set for
// both).
func tagKey(key string) string {
	if e, ok := migration(key); ok && !e.Legacy() {
		for _, c := range []stability.Category{stability.HTTP, stability.Database, stability.RPC, stability.Messaging} {
			if r := stability.Lookup(c, stability.AnyKind, key); r != nil && r.Transform == stability.Same && len(r.Stable) == 1 {
				return r.Stable[0]
			}
		}
	}
	return key
}

// StringTag is a string-typed tag key, in the style of opentracing-go's ext
// helpers: HTTPMethod.Set(span, "GET").
type StringTag string

// Key returns the tag key.
func (t StringTag) Key() string { return string(t) }

// Set sets the tag on span. Under OTEL_SEMCONV_STABILITY_OPT_IN a legacy
// key becomes its stable successor, or both with /dup (db.statement becomes
// db.query.text with database); see package semconv/stability.
func (t StringTag) Set(span opentracing.Span, v string) { set(span, string(t), v) }

// Tag returns the tag as a StartSpan option.
func (t StringTag) Tag(v string) opentracing.Tag {
	return opentracing.Tag{Key: tagKey(string(t)), Value: v}
}

// Field returns the key and v as a log field.
func (t StringTag) Field(v string) log.Field { return log.String(string(t), v) }

// IntTag is an int-typed tag key: HTTPStatusCode.Set(span, 200).
type IntTag string

// Key returns the tag key.
func (t IntTag) Key() string { return string(t) }

// Set sets the tag on span.
func (t IntTag) Set(span opentracing.Span, v int) { set(span, string(t), v) }

// Tag returns the tag as a StartSpan option.
func (t IntTag) Tag(v int) opentracing.Tag { return opentracing.Tag{Key: tagKey(string(t)), Value: v} }

// Field returns the key and v as a log field.
func (t IntTag) Field(v int) log.Field { return log.Int(string(t), v) }

// FloatTag is a float-typed tag key.
type FloatTag string

// Key returns the tag key.
func (t FloatTag) Key() string { return string(t) }

// Set sets the tag on span.
func (t FloatTag) Set(span opentracing.Span, v float64) { set(span, string(t), v) }

// Tag returns the tag as a StartSpan option.
func (t FloatTag) Tag(v float64) opentracing.Tag {
	return opentracing.Tag{Key: tagKey(string(t)), Value: v}
}

// Field returns the key and v as a log field.
func (t FloatTag) Field(v float64) log.Field { return log.Float64(string(t), v) }

// BoolTag is a bool-typed tag key.
type BoolTag string

// Key returns the tag key.
func (t BoolTag) Key() string { return string(t) }

// Set sets the tag on span.
func (t BoolTag) Set(span opentracing.Span, v bool) { set(span, string(t), v) }

// Tag returns the tag as a StartSpan option.
func (t BoolTag) Tag(v bool) opentracing.Tag {
	return opentracing.Tag{Key: tagKey(string(t)), Value: v}
}

// Field returns the key and v as a log field.
func (t BoolTag) Field(v bool) log.Field { return log.Bool(string(t), v) }

// StringTagTemplate is a family of string tags sharing a prefix, such as
// "http.request.header.<name>".
type StringTagTemplate string

// Prefix returns the prefix every key of the family starts with.
func (t StringTagTemplate) Prefix() string { return string(t) }

// Key returns the key for suffix.
func (t StringTagTemplate) Key(suffix string) string { return string(t) + suffix }

// Set sets the tag for suffix on span.
func (t StringTagTemplate) Set(span opentracing.Span, suffix, v string) {
	span.SetTag(string(t)+suffix, v)
}

// Tag returns the tag for suffix as a StartSpan option.
func (t StringTagTemplate) Tag(suffix, v string) opentracing.Tag {
	return opentracing.Tag{Key: string(t) + suffix, Value: v}
}

// StringField is a string-typed log field key (not a span tag), e.g.
// Event.Field("error").
type StringField string

// Key returns the field key.
func (f StringField) Key() string { return string(f) }

// Field returns the key and v as a log field.
func (f StringField) Field(v string) log.Field { return log.String(string(f), v) }

// IntField is an int-typed log field key.
type IntField string

// Key returns the field key.
func (f IntField) Key() string { return string(f) }

// Field returns the key and v as a log field.
func (f IntField) Field(v int) log.Field { return log.Int(string(f), v) }

// FloatField is a float-typed log field key.
type FloatField string

// Key returns the field key.
func (f FloatField) Key() string { return string(f) }

// Field returns the key and v as a log field.
func (f FloatField) Field(v float64) log.Field { return log.Float64(string(f), v) }

// BoolField is a bool-typed log field key.
type BoolField string

// Key returns the field key.
func (f BoolField) Key() string { return string(f) }

// Field returns the key and v as a log field.
func (f BoolField) Field(v bool) log.Field { return log.Bool(string(f), v) }
