package orders_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/internal/jaegertest"
)

// jaegerTrace is the part of Jaeger's query API answer (GET
// /api/traces/{id}, what its UI draws) this test reads.
type jaegerTrace struct {
	Data []struct {
		Spans []struct {
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			Tags []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"tags"`
		} `json:"spans"`
	} `json:"data"`
}

// A real Jaeger (scripts/jaeger.sh; see internal/jaegertest) shows the
// request's database and cache spans under the HTTP server span.
func TestJaegerShowsDatabaseSpansUnderTheServerSpan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Jaeger process")
	}
	jg := jaegertest.Start(t)
	a := startApp(t, "http://"+jg.OTLPGRPC)
	a.order(t, "3")
	a.close()

	// The trace id, from Jaeger's own search.
	client := &http.Client{Timeout: 5 * time.Second}
	var tr jaegerTrace
	require.Eventually(t, func() bool {
		resp, err := client.Get("http://" + jg.Query + "/api/traces?service=orders&limit=10&lookback=1h")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		tr = jaegerTrace{}
		if json.NewDecoder(resp.Body).Decode(&tr) != nil || len(tr.Data) != 1 {
			return false
		}
		return len(tr.Data[0].Spans) == int(a.tracing.Stats().Tracer.Finished)
	}, 20*time.Second, 200*time.Millisecond, "the trace never showed up whole in Jaeger")

	spans := tr.Data[0].Spans
	var server string
	for _, s := range spans {
		if s.OperationName == "GET /orders/{id}" {
			server = s.SpanID
		}
	}
	require.NotEmpty(t, server)
	systems := map[string]int{}
	for _, s := range spans {
		for _, tag := range s.Tags {
			if tag.Key != "db.system" {
				continue
			}
			sys, _ := tag.Value.(string)
			if s.OperationName == "hello" {
				continue // a new connection's HELLO, under the command that needed it
			}
			systems[sys]++
			require.Len(t, s.References, 1, s.OperationName)
			require.Equal(t, "CHILD_OF", s.References[0].RefType)
			require.Equal(t, server, s.References[0].SpanID, "%s (%s) under the HTTP server span in Jaeger", s.OperationName, sys)
		}
	}
	require.Equal(t, map[string]int{"postgresql": 2, "redis": 2}, systems, "sql.conn.query, sql.rows, set, get")
}
