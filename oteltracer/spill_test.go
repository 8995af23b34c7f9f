package oteltracer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// A span's attributes outgrow its inline room (6, tracer.RecordingSpan)
// and setAttributes' stack batches of 8 intact, with an event after them,
// given at Start and later.
func TestManyAttributesSpill(t *testing.T) {
	_, p, rec := setup(t)
	var at, later []attribute.KeyValue
	for i := range 5 {
		at = append(at, attribute.Int(fmt.Sprintf("start.%d", i), 1000+i))
	}
	for i := range 12 {
		later = append(later, attribute.String(fmt.Sprintf("later.%d", i), fmt.Sprint("v", i)))
	}
	_, s := p.Tracer("spill").Start(context.Background(), "many", trace.WithAttributes(at...))
	s.SetAttributes(later...)
	s.AddEvent("done", trace.WithAttributes(attribute.Bool("ok", true)))
	s.End()
	got := find(t, rec, "many")
	for i := range 5 {
		require.Equal(t, int64(1000+i), got.Attributes[fmt.Sprintf("start.%d", i)], i)
	}
	for i := range 12 {
		require.Equal(t, fmt.Sprint("v", i), got.Attributes[fmt.Sprintf("later.%d", i)], i)
	}
	require.Len(t, got.Attributes, 18, "and sampling.probability")
	require.Len(t, got.Events, 1)
}
