package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"
)

// keyPolicy is a tiny policy: "bad" is dropped, "int" must be an int (and is
// coerced from a string), "loose" is counted, and server spans need "route".
type keyPolicy struct{}

func (keyPolicy) CheckTag(key string, value any) (any, TagVerdict) {
	switch key {
	case "bad":
		return nil, TagDropped
	case "int":
		if _, ok := value.(string); ok {
			return 0, TagCoerced
		}
	case "loose":
		return nil, TagViolation
	}
	return nil, TagOK
}

func (keyPolicy) CheckFinish(_ string, kind SpanKind, attrs []Attribute) int {
	if kind != KindServer {
		return 0
	}
	for _, a := range attrs {
		if a.Key == "route" {
			return 0
		}
	}
	return 1
}

func TestTagPolicy(t *testing.T) {
	tr, rec := newRecorded(WithTagPolicy(keyPolicy{}))
	s := tr.StartSpan("op", ext.SpanKindRPCServer, opentracing.Tag{Key: "bad", Value: 1})
	s.SetTag("int", "seven").SetTag("loose", "x").SetTag("fine", true)
	s.Finish()
	ok := tr.StartSpan("ok")
	ok.SetTag("fine", 1)
	ok.Finish()
	spans := rec.all()
	d := spans[0]
	_, hasBad := attr(d, "bad")
	require.False(t, hasBad)
	v, _ := attr(d, "int")
	require.Equal(t, 0, v)
	v, _ = attr(d, "loose")
	require.Equal(t, "x", v)
	v, _ = attr(d, ViolationsKey)
	require.Equal(t, 4, v, "dropped + coerced + counted + missing required tag")
	_, has := attr(spans[1], ViolationsKey)
	require.False(t, has, "a clean span carries no violation count")
}
