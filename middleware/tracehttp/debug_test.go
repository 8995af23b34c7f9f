package tracehttp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/middleware/tracehttp"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/tracer"
)

// TestServerDebugFlag: a trusted caller's B3 debug flag forces sampling (a
// ratio of 0 would drop the trace otherwise), while a public endpoint
// starts a new trace, so an outside caller cannot force sampling of every
// request by sending b3: ...-d.
func TestServerDebugFlag(t *testing.T) {
	t.Parallel()
	const b3 = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d"
	for _, tc := range []struct {
		name    string
		opts    []tracehttp.Option
		sampled uint64
	}{
		{"trusted caller", nil, 1},
		{"public endpoint", []tracehttp.Option{tracehttp.WithPublicEndpoint()}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, _ := newTestTracer(tracer.WithSampler(tracer.ParentBased(tracer.TraceIDRatio(0))),
				tracer.WithPropagator(propagation.Composite(propagation.B3{}, propagation.Default())))
			srv := startServer(t, tracehttp.NewHandler(newMux(), append([]tracehttp.Option{tracehttp.WithTracer(tr)}, tc.opts...)...))
			_, _ = get(t, srv.Client(), srv.URL+"/users/1", map[string]string{"b3": b3})
			// The server span starts before the handler answers.
			require.Equal(t, uint64(1), tr.Stats().Started)
			require.Equal(t, tc.sampled, tr.Stats().Sampled)
		})
	}
}
