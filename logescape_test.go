package flowtrace

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
)

// lockedBuffer collects what the SDK logs, from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsCannotBeForged feeds hostile text to every place where the SDK
// writes input it does not control into its own logs: environment values
// (warnings and the start-up line) and tag keys (semantic-convention
// warnings). Each must come out as one bounded line of its own, with no
// terminal escapes and no line an attacker chose.
func TestLogsCannotBeForged(t *testing.T) {
	out := &lockedBuffer{}
	orig := stderr
	stderr = out
	defer func() { stderr = orig }()
	hostile := "x\n2026-01-01 FORGED level=ERROR\r\x1b[31mred\x1b[0m\x00\xff"
	rcv := newReceiver(t)
	tracing := Start(context.Background(), isolated(map[string]string{
		"OTEL_SERVICE_NAME":        hostile,
		"OTEL_TRACES_SAMPLER":      hostile,
		"OTEL_TRACES_SAMPLER_ARG":  hostile,
		"OTEL_RESOURCE_ATTRIBUTES": "team=" + hostile,
		"OTEL_PROPAGATORS":         "tracecontext," + hostile,
		"FLOWTRACE_SEMCONV_MODE":   "warn",
	}, config.WithEndpoint(rcv.GRPCEndpoint()))...)
	span := tracing.Tracer().StartSpan("op")
	span.SetTag(hostile+strings.Repeat("k", 1<<20), "v")
	span.Finish()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "semconv") }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, tracing.Close())

	logs := out.String()
	t.Logf("what the SDK logged:\n%s", logs)
	require.NotEmpty(t, logs)
	require.Contains(t, logs, "FORGED", "the hostile text reached the logs, escaped")
	for _, line := range strings.Split(strings.TrimSuffix(logs, "\n"), "\n") {
		require.LessOrEqual(t, len(line), 4096, "log lines are bounded")
		require.False(t, strings.HasPrefix(line, "2026-01-01 FORGED"), "an attacker chose this line: %q", line)
		require.True(t, strings.HasPrefix(line, "flowtrace:") || strings.HasPrefix(line, "time="), "a line the SDK did not write: %q", line)
		for _, r := range line {
			require.False(t, unicode.IsControl(r), "control character %U in %q", r, line)
		}
	}
}
