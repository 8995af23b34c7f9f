package tracekafka_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// kcatPath returns kcat's path; a missing kcat skips the test on a
// developer machine and fails it in CI (CI=true).
func kcatPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("kcat not found in CI: install it (apt-get install -y kcat): %v", err)
	}
	t.Skip("kcat not installed: apt-get install -y kcat (this test is mandatory when CI=true)")
	return ""
}

func runKcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kcatPath(t), args...)
	cmd.WaitDelay = time.Second
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kcat %v: %s", args, out)
	return string(out)
}

// TestKcatInterop: flowtrace → kcat sees traceparent and X-Flow-ID; kcat →
// flowtrace continues the trace kcat's headers name, with its flow id.
func TestKcatInterop(t *testing.T) {
	t.Parallel()
	kcatPath(t)
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t)

	// flowtrace produces, kcat reads the headers.
	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(tr))
	root := tr.StartSpan("root")
	ctx := flowid.ContextWith(opentracing.ContextWithSpan(ctxTimeout(t, 30*time.Second), root), "kcat-test-flow")
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Value: []byte("from-flowtrace")}))
	root.Finish()
	out := runKcat(t, "", "-C", "-b", b.Addr(), "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%h\n")
	spans := e2e.Recorded(t, rec, 2)
	var sendTrace, sendSpan string
	for _, s := range spans {
		if s.Name == "send "+topic {
			sendTrace, sendSpan = s.TraceID, s.SpanID
		}
	}
	require.NotEmpty(t, sendSpan)
	require.Contains(t, out, "traceparent=00-"+sendTrace+"-"+sendSpan+"-0") // flags 01 or 03 (random)
	require.Contains(t, out, "X-Flow-ID=kcat-test-flow")

	// kcat produces, flowtrace consumes.
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	in := topic + "-in"
	require.NoError(t, b.CreateTopic(in, 1))
	runKcat(t, "from-kcat\n", "-P", "-b", b.Addr(), "-t", in,
		"-H", "traceparent=00-"+traceID+"-"+spanID+"-01", "-H", "X-Flow-ID=kcat-flow")
	r := rawReader(t, b.Addr(), in, "")
	cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var fid, value string
	err := consume(cctx, r, func(ctx context.Context, m kafka.Message) error {
		fid, value = flowid.FromContext(ctx), string(m.Value)
		cancel()
		return nil
	}, tracekafka.WithTracer(tr))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, "from-kcat", value)
	require.Equal(t, "kcat-flow", fid)
	spans = e2e.Recorded(t, rec, 3)
	var found bool
	for _, s := range spans {
		if s.Name == "process "+in {
			found = true
			require.Equal(t, traceID, s.TraceID)
			require.Equal(t, spanID, s.ParentSpanID)
			require.Equal(t, "kcat-flow", s.Attributes["flow_id"])
		}
	}
	require.True(t, found)
}
