package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
)

// TestReferenceIsSpanReference: Reference starts the same span as
// opentracing's SpanReference options, with flowtrace's tracer and others.
func TestReferenceIsSpanReference(t *testing.T) {
	tr, rec := newRecorded()
	parent := tr.StartSpan("parent")
	other := tr.StartSpan("other")
	for _, typ := range []opentracing.SpanReferenceType{opentracing.ChildOfRef, opentracing.FollowsFromRef} {
		ref := opentracing.SpanReference{Type: typ, ReferencedContext: parent.Context()}
		tr.StartSpan("want", ref, opentracing.FollowsFrom(other.Context())).Finish()
		tr.StartSpan("got", Reference(typ, parent.Context()), Reference(opentracing.FollowsFromRef, other.Context())).Finish()
		spans := rec.all()
		want, got := spans[len(spans)-2], spans[len(spans)-1]
		require.Equal(t, want.ParentSpanID, got.ParentSpanID)
		require.Equal(t, want.SpanContext.TraceID, got.SpanContext.TraceID)
		require.Equal(t, want.Links, got.Links)
		require.Len(t, got.Links, 1)
	}

	mt := mocktracer.New()
	mp := mt.StartSpan("parent")
	for _, typ := range []opentracing.SpanReferenceType{opentracing.ChildOfRef, opentracing.FollowsFromRef} {
		var so opentracing.StartSpanOptions
		Reference(typ, mp.Context()).Apply(&so)
		require.Equal(t, []opentracing.SpanReference{{Type: typ, ReferencedContext: mp.Context()}}, so.References)
		so = opentracing.StartSpanOptions{}
		Reference(typ, parent.Context()).Apply(&so)
		require.Equal(t, []opentracing.SpanReference{{Type: typ, ReferencedContext: parent.Context()}}, so.References)
	}
	var nilCtx *SpanContext
	require.Equal(t, opentracing.ChildOf(nilCtx), Reference(opentracing.ChildOfRef, nilCtx))
}

// TestExtractRoomReuse: contexts Extract returns keep their own values
// whatever later Extracts find, the recycled room included.
func TestExtractRoomReuse(t *testing.T) {
	tr := New(WithProcessor(discard{}))
	ext := func(c opentracing.TextMapCarrier) opentracing.SpanContext {
		sc, _ := tr.Extract(opentracing.TextMap, c)
		return sc
	}
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	a := ext(opentracing.TextMapCarrier{"traceparent": tp, "baggage": "k=a"})
	for range 3 {
		require.Nil(t, ext(opentracing.TextMapCarrier{"baggage": "k=%zz"})) // invalid member: dropped
		require.Nil(t, ext(opentracing.TextMapCarrier{}))
	}
	b := ext(opentracing.TextMapCarrier{"baggage": "k=b"})
	c := ext(opentracing.TextMapCarrier{"traceparent": tp})
	d := ext(opentracing.TextMapCarrier{"traceparent": tp, "baggage": "k=d,k2=e"})
	require.Equal(t, "a", a.(*SpanContext).baggage.Members()[0].Value)
	require.Equal(t, "b", b.(*SpanContext).baggage.Members()[0].Value)
	require.False(t, b.(*SpanContext).wire.IsValid())
	require.Equal(t, propagation.Baggage{}, c.(*SpanContext).baggage)
	require.True(t, c.(*SpanContext).remote)
	require.Equal(t, []propagation.Member{{Key: "k", Value: "d"}, {Key: "k2", Value: "e"}}, d.(*SpanContext).baggage.Members())
}
