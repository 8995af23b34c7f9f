package tracer

// TagVerdict is a TagPolicy's judgement of one tag.
type TagVerdict uint8

// Verdicts. Anything but TagOK counts as a violation on the span.
const (
	// TagOK keeps the tag as set.
	TagOK TagVerdict = iota
	// TagViolation keeps the tag as set but counts it.
	TagViolation
	// TagCoerced keeps the value the policy returned instead.
	TagCoerced
	// TagDropped leaves the tag out.
	TagDropped
)

// ViolationsKey is the tag holding the number of tag-policy violations of a
// span, set at Finish when there were any.
const ViolationsKey = "semconv.violations"

// TagPolicy checks tags against conventions (see package semconv). It runs
// on the hot path under the span's lock: it must be fast, must not block and
// must not call back into the span.
type TagPolicy interface {
	// CheckTag judges a tag as it is set on a sampled span.
	CheckTag(key string, value any) (any, TagVerdict)
	// CheckFinish judges a finished span (kind and the tags it ended with),
	// e.g. for tags its kind requires, and returns how many violations to
	// add to the span's count.
	CheckFinish(name string, kind SpanKind, attrs []Attribute) int
}

// WithTagPolicy checks every tag set on sampled spans (default: none, at no
// cost).
func WithTagPolicy(p TagPolicy) Option {
	return optionFunc(func(c *config) { c.policy = p })
}
