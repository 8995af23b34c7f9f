package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracetest"
)

var protocols = []string{ProtocolGRPC, ProtocolHTTPProtobuf}

func batchOf(from, n int) []*tracer.SpanData {
	out := make([]*tracer.SpanData, n)
	for i := range out {
		out[i] = mkSpan(from + i)
	}
	return out
}

func newChaos(t *testing.T) *tracetest.ChaosReceiver {
	t.Helper()
	r, err := tracetest.NewChaosReceiver()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

func endpointFor(protocol string, r *tracetest.ChaosReceiver) string {
	if protocol == ProtocolGRPC {
		return r.GRPCEndpoint()
	}
	return r.HTTPEndpoint()
}

// chaosCase is one collector behaviour run through a Batcher and an OTLP
// exporter: offer spans, optionally act while they are exported, Shutdown
// with a deadline, then check the accounting identity and the case's own
// expectations.
type chaosCase struct {
	name      string
	behavior  tracetest.Behavior
	httpOnly  bool
	timeout   time.Duration // OTLP client timeout (retries included) and export timeout
	deadline  time.Duration // Shutdown deadline
	queue     int           // max queue size; 0 means 512
	spans     int           // spans offered; 0 means 200
	during    func(t *testing.T, r *tracetest.ChaosReceiver)
	check     func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string)
	afterStop int // spans offered after Shutdown
}

func (tc chaosCase) run(t *testing.T, protocol string) {
	r := newChaos(t)
	r.SetBehavior(tc.behavior)
	queue, n := tc.queue, tc.spans
	if queue == 0 {
		queue = 512
	}
	if n == 0 {
		n = 200
	}
	logs := &lineLogger{}
	exp := newOTLP(t, OTLPSettings{Protocol: protocol, Endpoint: endpointFor(protocol, r), Timeout: tc.timeout})
	b := NewBatcher(exp, WithMaxQueueSize(queue), WithMaxBatchSize(50), WithScheduleDelay(10*time.Millisecond),
		WithExportTimeout(tc.timeout), WithLogger(logs.logger()), WithErrorLogInterval(time.Hour))

	// OnEnd never waits for the collector: offering every span takes far
	// less than one export timeout whatever the collector does.
	// With a change of behaviour (during), only the first batch is
	// offered before it: the rest comes after, so that some spans meet
	// the new behaviour however fast the first exports fail.
	first := n
	if tc.during != nil {
		first = min(n, 50)
	}
	start := time.Now()
	for i := range first {
		b.OnEnd(mkSpan(i))
	}
	offerTook := time.Since(start)
	require.Less(t, offerTook, 2*time.Second, "OnEnd blocked")

	if tc.during != nil {
		tc.during(t, r)
		for i := first; i < n; i++ {
			b.OnEnd(mkSpan(i))
		}
	}
	start = time.Now()
	err := shutdown(t, b, tc.deadline)
	took := time.Since(start)
	require.LessOrEqual(t, took, tc.deadline+time.Second, "Shutdown returns by its deadline")
	if err != nil {
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	for i := range tc.afterStop {
		b.OnEnd(mkSpan(n + i))
	}
	// The worker stops once an aborted export returns.
	require.Eventually(t, func() bool {
		select {
		case <-b.done:
			return true
		default:
			return false
		}
	}, 5*time.Second, 5*time.Millisecond)

	st := b.Stats()
	requireAccounted(t, st, int64(n+tc.afterStop))
	t.Logf("%s/%s: offered=%d exported=%d queue_full=%d export_failed=%d rejected=%d shutdown=%d (after=%d at=%d) hits=%d shutdown_took=%v offer_took=%v",
		tc.name, protocol, n+tc.afterStop, st.Exported, st.DroppedQueueFull, st.DroppedExportFailed, st.DroppedRejected,
		st.DroppedShutdown, st.DroppedAfterShutdown, st.DroppedAtShutdown, r.TotalHits(), took.Round(time.Millisecond), offerTook.Round(time.Microsecond))
	if tc.check != nil {
		tc.check(t, st, r, logs.Lines())
	}
}

// flipWhen switches r to Healthy once kind has been hit at least n times.
func flipWhen(kind tracetest.BehaviorKind, n int64) func(*testing.T, *tracetest.ChaosReceiver) {
	return func(t *testing.T, r *tracetest.ChaosReceiver) {
		require.Eventually(t, func() bool { return r.Hits(kind) >= n }, 10*time.Second, time.Millisecond)
		r.SetBehavior(tracetest.Healthy())
	}
}

func allExported(t *testing.T, st Stats, r *tracetest.ChaosReceiver, _ []string) {
	require.Equal(t, st.Enqueued, st.Exported, "%+v", st)
	require.Zero(t, st.Dropped(), "%+v", st)
	require.Equal(t, int(st.Exported), r.SpanCount(), "the receiver kept what was counted as exported")
}

func noneExported(t *testing.T, st Stats, _ *tracetest.ChaosReceiver, logs []string) {
	require.Zero(t, st.Exported, "%+v", st)
	require.Equal(t, st.Enqueued, st.DroppedExportFailed+st.DroppedAtShutdown+st.Unconfirmed, "%+v", st)
	if st.DroppedExportFailed+st.Unconfirmed > 0 {
		require.NotEmpty(t, logs)
		require.LessOrEqual(t, len(logs), 2, "failures are logged once per interval plus once at shutdown: %q", logs)
	}
}

var chaosCases = []chaosCase{
	{name: "healthy", behavior: tracetest.Healthy(), timeout: 5 * time.Second, deadline: 5 * time.Second, check: allExported},
	{name: "slow", behavior: tracetest.Slow(100 * time.Millisecond), timeout: 5 * time.Second, deadline: 5 * time.Second, check: allExported},
	{name: "slow_random", behavior: tracetest.SlowRandom(0, 150*time.Millisecond), timeout: 5 * time.Second, deadline: 5 * time.Second, check: allExported},
	{
		name: "slow_past_deadline", behavior: tracetest.Slow(tracetest.MaxChaosDelay), timeout: 10 * time.Second, deadline: 300 * time.Millisecond,
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			noneExported(t, st, r, logs)
			require.Equal(t, st.Enqueued, st.DroppedAtShutdown, "Shutdown's deadline abandons the slow export")
		},
	},
	{
		name: "hang", behavior: tracetest.Hang(), timeout: 300 * time.Millisecond, deadline: time.Second,
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			noneExported(t, st, r, logs)
			require.Positive(t, r.Hits(tracetest.KindHang))
			require.Positive(t, st.Unconfirmed, "requests the collector took and never answered are unconfirmed, not dropped")
		},
	},
	{
		name: "hang_then_healthy", behavior: tracetest.Hang(), timeout: 5 * time.Second, deadline: 5 * time.Second,
		during: flipWhen(tracetest.KindHang, 1), check: allExported,
	},
	{
		name: "hang_queue_full", behavior: tracetest.Hang(), timeout: 300 * time.Millisecond, deadline: 500 * time.Millisecond,
		queue: 100, spans: 2000, afterStop: 10,
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			require.Zero(t, st.Exported)
			require.Positive(t, st.DroppedQueueFull)
			require.Equal(t, int64(10), st.DroppedAfterShutdown)
		},
	},
	{
		name: "reset", behavior: tracetest.Reset(), timeout: 500 * time.Millisecond, deadline: 2 * time.Second,
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			noneExported(t, st, r, logs)
			require.Positive(t, r.Hits(tracetest.KindReset))
		},
	},
	{
		name: "reset_then_healthy", behavior: tracetest.Reset(), timeout: 5 * time.Second, deadline: 5 * time.Second,
		during: flipWhen(tracetest.KindReset, 1),
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, _ []string) {
			// OTLP/HTTP does not retry a reset connection (its client only
			// retries url.Error.Temporary errors); gRPC does (UNAVAILABLE).
			require.Equal(t, int(st.Exported), r.SpanCount())
			require.Zero(t, st.DroppedAtShutdown+st.DroppedQueueFull)
			require.Positive(t, st.Exported)
		},
	},
	{
		name: "throttle_then_healthy", behavior: tracetest.Throttle(200 * time.Millisecond), timeout: 5 * time.Second, deadline: 5 * time.Second,
		during: flipWhen(tracetest.KindThrottle, 2),
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			allExported(t, st, r, logs)
			require.GreaterOrEqual(t, r.Hits(tracetest.KindThrottle), int64(2), "429 / RESOURCE_EXHAUSTED is retried")
		},
	},
	{
		name: "unavailable_then_healthy", behavior: tracetest.Unavailable(200 * time.Millisecond), timeout: 5 * time.Second, deadline: 5 * time.Second,
		during: flipWhen(tracetest.KindUnavailable, 2),
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			allExported(t, st, r, logs)
			require.GreaterOrEqual(t, r.Hits(tracetest.KindUnavailable), int64(2), "503 / UNAVAILABLE is retried")
		},
	},
	{
		name: "unavailable", behavior: tracetest.Unavailable(0), timeout: 800 * time.Millisecond, deadline: 3 * time.Second,
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			noneExported(t, st, r, logs)
			require.Greater(t, r.Hits(tracetest.KindUnavailable), int64(1), "retried with backoff before giving up")
		},
	},
	{
		name: "partial_success", behavior: tracetest.PartialSuccess(3, "attribute too long"), timeout: 5 * time.Second, deadline: 5 * time.Second,
		check: func(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
			require.Positive(t, st.DroppedRejected)
			require.Zero(t, st.DroppedExportFailed+st.DroppedAtShutdown+st.DroppedQueueFull, "%+v", st)
			require.Equal(t, int(st.Exported), r.SpanCount(), "Exported counts the accepted spans only")
			require.LessOrEqual(t, st.DroppedRejected, 3*r.Hits(tracetest.KindPartialSuccess))
			require.NotEmpty(t, logs)
			require.Contains(t, logs[0], "attribute too long")
		},
	},
	{
		name: "partial_success_warning", behavior: tracetest.PartialSuccess(0, "just a warning"), timeout: 5 * time.Second, deadline: 5 * time.Second,
		check: allExported,
	},
	{
		name: "unbounded_body_200", behavior: tracetest.UnboundedBody(200), httpOnly: true, timeout: 2 * time.Second, deadline: 5 * time.Second,
		check: unboundedBody,
	},
	{
		name: "unbounded_body_400", behavior: tracetest.UnboundedBody(400), httpOnly: true, timeout: 2 * time.Second, deadline: 5 * time.Second,
		check: unboundedBody,
	},
}

func unboundedBody(t *testing.T, st Stats, r *tracetest.ChaosReceiver, logs []string) {
	noneExported(t, st, r, logs)
	require.Equal(t, st.Enqueued, st.DroppedExportFailed)
	require.Contains(t, strings.Join(logs, "\n"), "response body too large")
	hits := r.Hits(tracetest.KindUnboundedBody)
	require.Positive(t, hits)
	// The client stops reading after MaxOTLPResponseBytes and closes the
	// connection; what the server still pushed sits in socket buffers.
	require.Less(t, r.UnboundedBytesSent()/hits, int64(32<<20), "the response body is not read unbounded")
}

// TestChaosAccounting runs every collector behaviour over OTLP/gRPC and
// OTLP/HTTP: OnEnd stays non-blocking, Shutdown returns by its deadline
// and offered (finished) = Exported + Dropped() + Unconfirmed holds
// exactly, Dropped() being DroppedQueueFull + DroppedExportFailed +
// DroppedRejected + DroppedShutdown.
func TestChaosAccounting(t *testing.T) {
	for _, tc := range chaosCases {
		for _, protocol := range protocols {
			if tc.httpOnly && protocol == ProtocolGRPC {
				continue
			}
			t.Run(tc.name+"/"+protocol, func(t *testing.T) {
				t.Parallel()
				tc.run(t, protocol)
			})
		}
	}
}

// TestChaosUnboundedBodyHeap exports repeatedly into an endless response
// body and checks the live heap stays bounded.
func TestChaosUnboundedBodyHeap(t *testing.T) {
	r := newChaos(t)
	r.SetBehavior(tracetest.UnboundedBody(200))
	exp := newOTLP(t, OTLPSettings{Protocol: ProtocolHTTPProtobuf, Endpoint: r.HTTPEndpoint(), Timeout: 2 * time.Second})
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range 10 {
		err := exp.Export(context.Background(), batchOf(i*10, 10))
		require.ErrorContains(t, err, "response body too large")
	}
	after := heap()
	t.Logf("heap before %d KiB, after %d KiB; server pushed %d MiB in %d responses",
		before>>10, after>>10, r.UnboundedBytesSent()>>20, r.Hits(tracetest.KindUnboundedBody))
	require.Less(t, int64(after)-int64(before), int64(8<<20), "heap grows by less than 8 MiB")
}

// TestChaosTLSWrongCertificate: a collector whose certificate the client's
// configured CA does not sign fails every export, counted as
// export_failed, with a rate-limited log line; trusting the right CA works.
func TestChaosTLSWrongCertificate(t *testing.T) {
	r, err := tracetest.NewTLSChaosReceiver()
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	dir := t.TempDir()
	wrongPEM, err := tracetest.SelfSignedCAPEM()
	require.NoError(t, err)
	wrong := filepath.Join(dir, "wrong.pem")
	right := filepath.Join(dir, "right.pem")
	require.NoError(t, os.WriteFile(wrong, wrongPEM, 0o600))
	require.NoError(t, os.WriteFile(right, r.CACertPEM(), 0o600))

	for _, protocol := range protocols {
		for _, ca := range []string{wrong, right} {
			t.Run(protocol+"/"+filepath.Base(ca), func(t *testing.T) {
				logs := &lineLogger{}
				exp := newOTLP(t, OTLPSettings{Protocol: protocol, Endpoint: endpointFor(protocol, r), Certificate: ca, Timeout: 500 * time.Millisecond})
				b := NewBatcher(exp, WithMaxBatchSize(50), WithScheduleDelay(time.Hour), WithLogger(logs.logger()), WithErrorLogInterval(time.Hour))
				const n = 200
				for i := range n {
					b.OnEnd(mkSpan(i))
				}
				start := time.Now()
				err := shutdown(t, b, 5*time.Second)
				require.Less(t, time.Since(start), 6*time.Second)
				st := b.Stats()
				requireAccounted(t, st, n)
				t.Logf("exported=%d export_failed=%d logs=%q", st.Exported, st.DroppedExportFailed, logs.Lines())
				if ca == right {
					require.NoError(t, err)
					require.Equal(t, int64(n), st.Exported)
					return
				}
				require.NoError(t, err, "export failures are counted, not returned by Shutdown")
				require.Equal(t, int64(n), st.DroppedExportFailed)
				lines := logs.Lines()
				// 4 failed batches: one line at the first, one summary at shutdown.
				require.Len(t, lines, 2, "%q", lines)
				require.Contains(t, lines[0], "certificate")
				require.Contains(t, lines[1], "3 time(s), 150 span(s) dropped")
			})
		}
	}
}

// TestChaosPartialSuccessIsData: the transports read a partial success
// from the response as data, over gRPC, OTLP/HTTP protobuf and JSON.
func TestChaosPartialSuccessIsData(t *testing.T) {
	r := newChaos(t)
	r.SetBehavior(tracetest.PartialSuccess(2, "two too many"))
	for _, protocol := range append(protocols, ProtocolHTTPJSON) {
		t.Run(protocol, func(t *testing.T) {
			c, err := NewOTLPClient(OTLPSettings{Protocol: protocol, Endpoint: endpointFor(protocol, r), Timeout: 5 * time.Second})
			require.NoError(t, err)
			ctx := context.Background()
			defer func() { require.NoError(t, c.Close(ctx)) }()
			body, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: ToOTLP(testRes, "s", "v", batchOf(0, 5))})
			require.NoError(t, err)
			resp, err := c.Send(ctx, body)
			require.NoError(t, err)
			require.Equal(t, Response{RejectedSpans: 2, ErrorMessage: "two too many"}, resp)
		})
	}
}

func TestAsPartialSuccess(t *testing.T) {
	text := errors.New("OTLP partial success: bad (7 spans rejected)")
	empty := errors.New("OTLP partial success: empty message (1 spans rejected)")
	for _, tc := range []struct {
		name string
		err  error
		n    int64
		msg  string
		ok   bool
	}{
		{"nil", nil, 0, "", false},
		{"other", errFake, 0, "", false},
		{"text", text, 7, "bad", true},
		{"empty message", empty, 1, "", true},
		{"wrapped", fmt.Errorf("upload: %w", text), 7, "bad", true},
		{"joined keeps the largest", errors.Join(empty, text), 7, "bad", true},
		{"joined with a real error", errors.Join(text, errFake), 0, "", false},
		{"RejectedError", &RejectedError{Rejected: 4, Message: "m"}, 4, "m", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, msg, ok := AsPartialSuccess(tc.err)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.n, n)
			require.Equal(t, tc.msg, msg)
		})
	}
}
