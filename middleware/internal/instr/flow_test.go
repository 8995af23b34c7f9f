package instr

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/mocktracer"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation/flowid"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

// TestIncoming is the inbound precedence of package middleware's doc as a table.
func TestIncoming(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 200)
	for _, tc := range []struct {
		name     string
		header   []string
		baggage  string
		public   bool
		want     string // "" : a new id
		incoming string
		invalid  string
	}{
		{"absent", nil, "", false, "", "", ""},
		{"header", []string{"h-1"}, "", false, "h-1", "", ""},
		{"header wins over baggage", []string{"h-1"}, "b-1", false, "h-1", "", ""},
		{"baggage", nil, "b-1", false, "b-1", "", ""},
		{"invalid header, baggage", []string{"bad value"}, "b-1", false, "b-1", "", `bad value`},
		{"invalid header", []string{"a\r\nb"}, "", false, "", "", `a\x0d\x0ab`},
		{"several values", []string{"h-1", "h-2"}, "", false, "", "", "h-1"},
		{"empty", []string{""}, "", false, "", "", ""},
		{"too long", []string{long}, "", false, "", "", flowid.Sanitize(long)},
		{"invalid baggage", nil, "bad value", false, "", "", ""},
		{"public, valid", []string{"h-1"}, "b-1", true, "", "h-1", ""},
		{"public, invalid", []string{"bad value"}, "b-1", true, "", "", "bad value"},
		{"public, absent", nil, "b-1", true, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Incoming(tc.header, tc.baggage, tc.public)
			require.True(t, flowid.Valid(r.ID))
			if tc.want != "" {
				require.Equal(t, tc.want, r.ID)
			} else {
				require.NotEqual(t, tc.baggage, r.ID)
				require.Len(t, r.ID, 22)
			}
			require.Equal(t, tc.incoming, r.Incoming)
			require.Equal(t, tc.invalid, r.Invalid)
		})
	}
}

func TestOutgoing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ctx, bag string
		carried        []string
		want           string // "": a new id
	}{
		{"context", "c-1", "b-1", []string{"h-1"}, "c-1"},
		{"baggage", "", "b-1", []string{"h-1"}, "b-1"},
		{"invalid context, baggage", "bad value", "b-1", nil, "b-1"},
		{"carried", "", "", []string{"h-1"}, "h-1"},
		{"carried twice", "", "", []string{"h-1", "h-2"}, ""},
		{"nothing: made up", "", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Outgoing(tc.ctx, tc.bag, tc.carried)
			require.True(t, flowid.Valid(got))
			if tc.want == "" {
				require.Len(t, got, 22)
			} else {
				require.Equal(t, tc.want, got)
			}
		})
	}
}

// TestLoggerAndCounters: the middleware's logger and counters are its
// tracer's when the tracer is flowtrace's (per Start, not per process).
func TestLoggerAndCounters(t *testing.T) {
	t.Parallel()
	own := slog.New(slog.DiscardHandler)
	tr := tracer.New(tracer.WithLogger(own))
	require.Same(t, own, Logger(nil, tr))
	mine := slog.New(slog.DiscardHandler)
	require.Same(t, mine, Logger(mine, tr), "WithLogger wins")
	require.Same(t, sdklog.Default(), Logger(nil, mocktracer.New()))
	require.Same(t, sdklog.Default(), (&Engine{Tracer: opentracing.NoopTracer{}}).Log())

	Counters(tr).Messages.Add(2)
	require.Equal(t, uint64(2), tr.Edge().Stats().Messages)
	require.Zero(t, tracer.New().Edge().Stats().Messages, "another tracer counts apart")
	Counters(mocktracer.New()).Messages.Add(1) // kept nowhere, and no panic
}
