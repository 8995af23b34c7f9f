package tracetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/flowtrace/flowtrace/internal/otlpreceive"
)

func chaosRequest(n int) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range n {
		s := ss.Spans().AppendEmpty()
		s.SetName("op")
		s.SetTraceID([16]byte{1, byte(i + 1)})
		s.SetSpanID([8]byte{2, byte(i + 1)})
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

func newChaosT(t *testing.T) *ChaosReceiver {
	t.Helper()
	c, err := NewChaosReceiver()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

func postChaos(t *testing.T, c *ChaosReceiver, client *http.Client, n int) (*http.Response, error) {
	t.Helper()
	body, err := chaosRequest(n).MarshalProto()
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, c.HTTPEndpoint(), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", otlpreceive.ContentTypeProto)
	return client.Do(req)
}

func TestChaosReceiverHTTP(t *testing.T) {
	c := newChaosT(t)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	do := func(b Behavior, n int) (*http.Response, []byte) {
		c.SetBehavior(b)
		resp, err := postChaos(t, c, client, n)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		require.NoError(t, err)
		return resp, data
	}

	resp, _ := do(Healthy(), 3)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 3, c.SpanCount())

	resp, _ = do(Throttle(1500*time.Millisecond), 1)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "2", resp.Header.Get("Retry-After"))
	resp, _ = do(Unavailable(0), 1)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Retry-After"))

	resp, data := do(PartialSuccess(2, "nope"), 5)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out := ptraceotlp.NewExportResponse()
	require.NoError(t, out.UnmarshalProto(data))
	require.Equal(t, int64(2), out.PartialSuccess().RejectedSpans())
	require.Equal(t, "nope", out.PartialSuccess().ErrorMessage())
	require.Equal(t, 3+3, c.SpanCount(), "the rejected spans are not kept")

	start := time.Now()
	do(Slow(50*time.Millisecond), 1)
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	c.SetBehavior(UnboundedBody(400))
	resp, err := postChaos(t, c, client, 1)
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 8<<20))
	require.NoError(t, err)
	require.Equal(t, int64(8<<20), n, "the body does not end")
	require.NoError(t, resp.Body.Close())

	c.SetBehavior(Reset())
	_, err = postChaos(t, c, client, 1)
	require.Error(t, err)

	// Hang holds the request until the behaviour changes.
	c.SetBehavior(Hang())
	done := make(chan int, 1)
	go func() {
		resp, err := postChaos(t, c, client, 1)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return c.Hits(KindHang) > 0 }, 5*time.Second, time.Millisecond)
	select {
	case <-done:
		t.Fatal("a hung request was answered")
	case <-time.After(50 * time.Millisecond):
	}
	c.SetBehavior(Healthy())
	require.Equal(t, http.StatusOK, <-done)

	for k, want := range map[BehaviorKind]int64{KindThrottle: 1, KindUnavailable: 1, KindPartialSuccess: 1, KindSlow: 1, KindUnboundedBody: 1, KindReset: 1, KindHang: 1} {
		require.Equal(t, want, c.Hits(k), k.String())
	}
	require.Equal(t, int64(2), c.Hits(KindHealthy))
}

func dialChaos(t *testing.T, c *ChaosReceiver, creds credentials.TransportCredentials) ptraceotlp.GRPCClient {
	t.Helper()
	conn, err := grpc.NewClient(c.GRPCAddr(), grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return ptraceotlp.NewGRPCClient(conn)
}

func TestChaosReceiverGRPC(t *testing.T) {
	c := newChaosT(t)
	client := dialChaos(t, c, insecure.NewCredentials())
	ctx := context.Background()

	_, err := client.Export(ctx, chaosRequest(2))
	require.NoError(t, err)

	c.SetBehavior(Throttle(250 * time.Millisecond))
	_, err = client.Export(ctx, chaosRequest(1))
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code())
	require.Len(t, st.Details(), 1)
	require.Equal(t, 250*time.Millisecond, st.Details()[0].(*errdetails.RetryInfo).RetryDelay.AsDuration())

	c.SetBehavior(Unavailable(time.Second))
	_, err = client.Export(ctx, chaosRequest(1))
	require.Equal(t, codes.Unavailable, status.Code(err))

	c.SetBehavior(PartialSuccess(5, "all of them"))
	resp, err := client.Export(ctx, chaosRequest(3))
	require.NoError(t, err)
	require.Equal(t, int64(3), resp.PartialSuccess().RejectedSpans(), "at most the spans sent")
	require.Equal(t, 2, c.SpanCount())

	c.SetBehavior(Hang())
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = client.Export(short, chaosRequest(1), grpc.WaitForReady(true))
	cancel()
	require.Equal(t, codes.DeadlineExceeded, status.Code(err))
	require.Eventually(t, func() bool { return c.Held() == 0 }, 5*time.Second, time.Millisecond)

	c.SetBehavior(UnboundedBody(200)) // healthy over gRPC
	_, err = client.Export(ctx, chaosRequest(1), grpc.WaitForReady(true))
	require.NoError(t, err)
	require.Equal(t, 3, c.SpanCount())

	c.SetBehavior(Reset())
	_, err = client.Export(ctx, chaosRequest(1))
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.Equal(t, int64(1), c.Hits(KindReset))
	require.Equal(t, int64(7), c.TotalHits())
}

func TestChaosReceiverTLS(t *testing.T) {
	c, err := NewTLSChaosReceiver()
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	require.Contains(t, c.GRPCEndpoint(), "https://")
	require.Contains(t, c.HTTPEndpoint(), "https://")

	wrong, err := SelfSignedCAPEM()
	require.NoError(t, err)
	for _, tc := range []struct {
		pem []byte
		ok  bool
	}{{c.CACertPEM(), true}, {wrong, false}} {
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM(tc.pem))
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

		tr := &http.Transport{TLSClientConfig: cfg}
		resp, err := postChaos(t, c, &http.Client{Transport: tr, Timeout: 5 * time.Second}, 1)
		if tc.ok {
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			resp.Body.Close()
		} else {
			require.ErrorContains(t, err, "certificate")
		}
		tr.CloseIdleConnections()

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = dialChaos(t, c, credentials.NewTLS(cfg)).Export(ctx, chaosRequest(1))
		cancel()
		if tc.ok {
			require.NoError(t, err)
		} else {
			require.Equal(t, codes.Unavailable, status.Code(err))
		}
	}
	require.Equal(t, int64(2), c.Hits(KindHealthy), "only trusted clients get through")
}

// TestChaosReceiverCloseReleasesHeldRequests: Close returns while requests
// hang or stream, and goleak (TestMain) finds no goroutine left.
func TestChaosReceiverCloseReleasesHeldRequests(t *testing.T) {
	c, err := NewChaosReceiver()
	require.NoError(t, err)
	c.SetBehavior(Hang())
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	grpcClient := dialChaos(t, c, insecure.NewCredentials())
	errs := make(chan error, 2)
	go func() { _, err := postChaos(t, c, client, 1); errs <- err }()
	go func() { _, err := grpcClient.Export(context.Background(), chaosRequest(1)); errs <- err }()
	require.Eventually(t, func() bool { return c.Hits(KindHang) >= 2 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	require.Less(t, time.Since(start), 2*time.Second)
	for range 2 {
		require.Error(t, <-errs)
	}
}

func TestBehaviorKindString(t *testing.T) {
	require.Equal(t, "partial_success", PartialSuccess(1, "").Kind().String())
	require.Equal(t, "BehaviorKind(99)", BehaviorKind(99).String())
	require.Equal(t, "healthy", Behavior{}.String())
	require.Equal(t, MaxChaosDelay, Slow(time.Hour).sleep())
	d := SlowRandom(20*time.Millisecond, 10*time.Millisecond).sleep()
	require.True(t, d >= 10*time.Millisecond && d <= 20*time.Millisecond)
	require.Equal(t, int64(0), newChaosT(t).Hits(BehaviorKind(-1)))
}
