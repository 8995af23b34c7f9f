package remotesampling

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/jaegertest"
)

// TestRealJaegerGRPCMatchesHTTP: a real Jaeger v2 serves one strategy
// file over gRPC (hand-decoded protobuf) and over HTTP (JSON); for a
// per-operation, a rate-limiting and a default service both transports
// read the same strategy, and it is the file's.
func TestRealJaegerGRPCMatchesHTTP(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strategies.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"service_strategies":[
  {"service":"shop","type":"probabilistic","param":0.8,"operation_strategies":[
    {"operation":"GET /a","type":"probabilistic","param":0.25},
    {"operation":"GET /b","type":"probabilistic","param":0.5}]},
  {"service":"limited","type":"ratelimiting","param":7}],
  "default_strategy":{"type":"probabilistic","param":0.3}}`), 0o600))
	j := jaegertest.StartSampling(t, file, time.Hour)
	for _, tc := range []struct {
		service string
		check   func(t *testing.T, r response)
	}{
		{"shop", func(t *testing.T, r response) {
			require.Equal(t, kindPerOperation, r.kind)
			require.Equal(t, 0.8, r.probability)
			ops := map[string]float64{}
			for _, op := range r.operations {
				ops[op.name] = op.probability
			}
			require.Equal(t, 0.25, ops["GET /a"])
			require.Equal(t, 0.5, ops["GET /b"])
		}},
		{"limited", func(t *testing.T, r response) {
			require.Equal(t, kindRateLimiting, r.kind)
			require.Equal(t, 7.0, r.rate)
		}},
		{"other", func(t *testing.T, r response) {
			require.Equal(t, 0.3, r.probability)
		}},
	} {
		t.Run(tc.service, func(t *testing.T) {
			var got []response
			for _, endpoint := range []string{j.GRPC, "http://" + j.HTTP + "/"} {
				f, err := newFetcher(endpoint, tc.service, 5*time.Second, nil, DefaultMaxOperations)
				require.NoError(t, err)
				var r response
				require.Eventually(t, func() bool {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					r, err = f.fetch(ctx)
					return err == nil
				}, 20*time.Second, 50*time.Millisecond, "%s: %v", endpoint, err)
				f.close()
				tc.check(t, r)
				got = append(got, r)
			}
			t.Logf("%s: %+v", tc.service, got[0])
			require.True(t, got[0].equal(got[1]), "grpc %+v, http %+v", got[0], got[1])
		})
	}
}
