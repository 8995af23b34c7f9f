package tracer

import (
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/opentracing/opentracing-go/log"
	"github.com/stretchr/testify/require"
)

// SetAttributes (the OpenTelemetry API's setter) records what SetTag
// records for each attribute in turn: its one-pass loop compares a key with
// the span's keys only when one of them has the key's length (modulo 64),
// so keys of equal length, lengths 64 apart, the tracer's own tags, the
// special keys, an event's fields at the end of the attribute array and
// each limit are checked here against SetTag.
func TestSetAttributesIsSetTag(t *testing.T) {
	at := time.Unix(1, 0)
	long := strings.Repeat("k", 67) // same bit as "abc"
	forty := strings.Repeat("q", 40)
	batches := [][]Attribute{
		{{"abc", "1"}, {"abd", int64(2)}, {"abc", "3"}, {long, true}, {long, false}, {forty, "a"}},
		{{strings.Repeat("m", 71), "x"}, {"http.method", "GET"}, {"component", "bench"}, {"span.kind", "server"}, {"error", true}},
		{{"error", "a message"}, {"sampling.priority", int64(1)}, {"error", false}, {"str", "0123456789abc"}, {"nine", "123456789"}, {"t3", "abc"}},
		{{SamplingProbabilityKey, 0.5}, {"abd", int64(4)}, {"f", 1.5}, {forty, "b"}, {long, "c"}, {"xs", []string{"a", "0123456789"}}},
		{{"over1", "x"}, {"over2", int64(7)}, {"abc", "replaced when full"}, {strings.Repeat("n", 71), "x"}},
		{{"is", []int64{1, 2}}, {"", "empty key"}, {"component", "again"}},
	}
	for _, lim := range []Limits{
		{AttributeCount: 6, AttributeValueLength: 8, EventCount: 4, LinkCount: 4, NameLength: 70},
		{AttributeCount: -1, AttributeValueLength: 0, EventCount: 4, LinkCount: 4, NameLength: 0},
		{AttributeCount: 0, AttributeValueLength: 2, EventCount: 4, LinkCount: 4, NameLength: 3},
		{AttributeCount: 100, AttributeValueLength: 8, EventCount: 4, LinkCount: 4, NameLength: 70},
	} {
		for _, policy := range []TagPolicy{nil, keyPolicy{}} {
			for _, event := range []bool{false, true} {
				for _, start := range []string{"child", "layered", "tagged"} {
					run := func(set func(s *Span, batch []Attribute)) *SpanData {
						rec := &recorder{}
						opts := []Option{WithProcessor(rec), WithLimits(lim)}
						if policy != nil {
							opts = append(opts, WithTagPolicy(policy))
						}
						tr := New(opts...)
						root := tr.StartSpan("root")
						var s *Span
						switch start {
						case "child": // room for 2
							s = tr.StartSpan("child", opentracing.ChildOf(root.Context())).(*Span)
						case "layered": // room for 6
							s = tr.StartSpanIn("layered", &SpanStart{}, func(bool) (*RecordingSpan, *NonRecordingSpan) {
								return new(RecordingSpan), nil
							}).(*Span)
						default: // room for 8
							s = tr.StartSpan("tagged", opentracing.Tag{Key: "first", Value: "x"}).(*Span)
						}
						for i, b := range batches {
							if event && i == 1 {
								s.LogFieldsAt(at, log.String("event", "e"), log.Int("a", 1), log.String("b", "two"))
							}
							set(s, b)
						}
						s.Finish()
						return rec.all()[0]
					}
					got := run(func(s *Span, batch []Attribute) { s.SetAttributes(batch) })
					want := run(func(s *Span, batch []Attribute) {
						for _, a := range batch {
							s.SetTag(a.Key, a.Value)
						}
					})
					require.Equal(t, want.Attributes, got.Attributes, "limits %+v, policy %v, event %v, %s", lim, policy, event, start)
					require.Equal(t, want.Events, got.Events)
					require.Equal(t, want.DroppedAttributes, got.DroppedAttributes)
					require.Equal(t, want.Kind, got.Kind)
					require.Equal(t, want.Status, got.Status)
				}
			}
		}
	}
}

func TestSetAttributesSpecialKeys(t *testing.T) {
	require.Equal(t, string(ext.SpanKind), spanKindKey)
	require.Equal(t, string(ext.Error), errorKey)
	require.Equal(t, string(ext.SamplingPriority), samplingPriorityKey)
	for _, k := range []string{spanKindKey, errorKey, samplingPriorityKey} {
		require.True(t, isSpecialKey(k), k)
		require.NotZero(t, specialKeyBits&seenBit(k), k)
	}
	for _, k := range []string{"span.kinD", "errors", "erro", "sampling.prioritY", "Sampling.priority", "db.operation.name", ""} {
		require.False(t, isSpecialKey(k), k)
	}
}

// TestSeenBitSeparatesSameLengthKeys: the HTTP server's tag keys that share
// a length get bits of their own, so that SetAttributes appends them on
// its fast path instead of searching the span for each (http20's profile:
// four of twelve fell off when the bit was the length alone).
func TestSeenBitSeparatesSameLengthKeys(t *testing.T) {
	for _, same := range [][]string{
		{"component", "http.host", "peer.ipv4"},
		{"http.method", "http.scheme"},
		{"http.route", "user_agent"},
		{"peer.address", "sampler.type"},
	} {
		bits := map[uint64]string{}
		for _, k := range same {
			b := seenBit(k)
			require.NotContains(t, bits, b, "%s and %s share a bit", k, bits[b])
			bits[b] = k
		}
	}
	require.NotZero(t, seenBit(""))
}
