package tracer

import (
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"
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
