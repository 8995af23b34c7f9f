package tracekafka_test

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/e2e"
	"github.com/flowtrace/flowtrace/middleware/tracekafka"
	"github.com/flowtrace/flowtrace/tracer"
)

// TestDefaultTrafficSource: a public consumer's default rule reads the
// single X-Traffic-Source header and lets through only what the registry
// allows.
func TestDefaultTrafficSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		headers []kafka.Header
		want    string
	}{
		{nil, "unknown"},
		{[]kafka.Header{{Key: "x-traffic-source", Value: []byte("app")}}, "app"},
		{[]kafka.Header{{Key: "X-Traffic-Source", Value: []byte("robots")}}, "unknown"},
		{[]kafka.Header{{Key: "X-Traffic-Source", Value: []byte("app")}, {Key: "X-Traffic-Source", Value: []byte("web")}}, "unknown"},
	} {
		require.Equal(t, tc.want, tracekafka.DefaultTrafficSource(kafka.Message{Headers: tc.headers}), "%v", tc.headers)
	}
}

// TestWriterCriticalOperation: the Writer's critical-operation rule forces
// a message's span into sampling under a sampler that samples nothing, and
// sends the operation on in baggage, as the HTTP and gRPC clients do.
func TestWriterCriticalOperation(t *testing.T) {
	t.Parallel()
	b, topic := newBroker(t, 1)
	tr, rec := e2e.NewRecorded(t, tracer.WithSampler(tracer.ParentBased(tracer.AlwaysOff())))
	w := newWriter(t, b.Addr(), topic, tracekafka.WithTracer(tr),
		tracekafka.WithCriticalOperation(func(m kafka.Message) string { return string(m.Key) }))
	ctx := ctxTimeout(t, 15*time.Second)
	require.NoError(t, w.WriteMessages(ctx, kafka.Message{Key: []byte("checkout"), Value: []byte("x")}))
	spans := e2e.Recorded(t, rec, 1)
	require.Equal(t, "checkout", spans[0].Attributes["critical_operation"])
	m := fetchN(t, b.Addr(), topic, 1)[0]
	require.Contains(t, header(m, "baggage")[0], "critical_operation=checkout")
}
