package tracer

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/sdklog"
)

// closingPolicy is a tag policy that holds a resource (as semconv's
// enforcer holds its log worker).
type closingPolicy struct {
	keyPolicy
	closed int
}

func (p *closingPolicy) Close() error { p.closed++; return errors.New("closed") }

// TestShutdownClosesTheTagPolicy: a tag policy that is an io.Closer is
// closed by Shutdown, once, and its error returned (before issue 17 item 4
// only flowtrace.Start knew to close semconv's enforcer).
func TestShutdownClosesTheTagPolicy(t *testing.T) {
	t.Parallel()
	p := &closingPolicy{}
	tr := New(WithTagPolicy(p))
	require.EqualError(t, tr.Shutdown(context.Background()), "closed")
	require.NoError(t, tr.Shutdown(context.Background()), "the second call does nothing")
	require.Equal(t, 1, p.closed)
	require.NoError(t, New(WithTagPolicy(keyPolicy{})).Shutdown(context.Background()), "a policy that is no Closer")
}

// TestLoggerAndEdgeCounters: the logger and the edge counters are the
// tracer's own.
func TestLoggerAndEdgeCounters(t *testing.T) {
	t.Parallel()
	l := slog.New(slog.DiscardHandler)
	require.Same(t, l, New(WithLogger(l)).Logger())
	require.Same(t, sdklog.Default(), New(WithLogger(nil)).Logger())
	a, b := New(), New()
	a.Edge().DroppedValues.Add(3)
	a.Edge().InvalidFlowID.Add(1)
	require.Equal(t, EdgeStats{DroppedValues: 3, InvalidFlowID: 1}, a.Edge().Stats())
	require.Equal(t, EdgeStats{}, b.Edge().Stats())
}
