package promtriage_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/owners"
	"github.com/flowtrace/flowtrace/analysis/promtriage"
)

func e(client, server, conn string, requests, failed float64) promtriage.Edge {
	return promtriage.Edge{Client: client, Server: server, ConnectionType: conn, Requests: requests, Failed: failed}
}

func path(f promtriage.Finding) string {
	var p []string
	for _, h := range f.Path {
		p = append(p, h.Service)
	}
	return strings.Join(p, ">")
}

func TestBlame(t *testing.T) {
	own, err := owners.Parse([]byte("services:\n  pay-gw: {team: payments, channel: '#pay'}\n  catalog: {team: discovery}\n"), "o")
	require.NoError(t, err)
	for _, tc := range []struct {
		name        string
		edges       []promtriage.Edge
		from        string
		path, cause string
		peer, team  string
	}{
		{
			name:  "follows the callee that failed most",
			edges: []promtriage.Edge{e("user", "edge", "", 100, 10), e("edge", "cart", "", 50, 3), e("edge", "catalog", "", 50, 6), e("catalog", "search", "", 20, 0)},
			path:  "edge>catalog", cause: "catalog", team: "discovery",
		},
		{
			name:  "a service that failed nothing recovered from its callee",
			edges: []promtriage.Edge{e("user", "edge", "", 100, 5), e("edge", "cart", "", 50, 5), e("cart", "catalog", "", 50, 0), e("catalog", "db", "database", 60, 20)},
			path:  "edge>cart", cause: "cart",
		},
		{
			name:  "messaging edges are not followed",
			edges: []promtriage.Edge{e("user", "edge", "", 100, 5), e("edge", "orders", "messaging_system", 50, 0), e("orders", "payment", "messaging_system", 50, 50)},
			path:  "edge", cause: "edge",
		},
		{
			name:  "an unlisted uninstrumented peer: its caller is the cause",
			edges: []promtriage.Edge{e("user", "edge", "", 100, 5), e("edge", "postgres", "database", 70, 5)},
			path:  "edge>postgres", cause: "edge", peer: "postgres",
		},
		{
			name:  "a peer the ownership file lists is the cause",
			edges: []promtriage.Edge{e("user", "edge", "", 100, 5), e("edge", "checkout", "", 100, 5), e("checkout", "pay-gw", "virtual_node", 70, 5)},
			path:  "edge>checkout>pay-gw", cause: "pay-gw", team: "payments",
		},
		{
			name:  "a call cycle ends",
			edges: []promtriage.Edge{e("user", "a", "", 10, 5), e("a", "b", "", 10, 5), e("b", "a", "", 10, 5)},
			path:  "a>b", cause: "b",
		},
		{
			name:  "ties go to the higher failure ratio",
			edges: []promtriage.Edge{e("user", "edge", "", 100, 5), e("edge", "x", "", 100, 5), e("edge", "y", "", 10, 5)},
			path:  "edge>y", cause: "y",
		},
		{
			name:  "from a given service",
			edges: []promtriage.Edge{e("user", "edge", "", 100, 10), e("edge", "cart", "", 50, 3), e("cart", "catalog", "", 50, 3), e("edge", "catalog", "", 50, 6)},
			from:  "cart", path: "cart>catalog", cause: "catalog", team: "discovery",
		},
		{
			name:  "no user node: the failing service no failing caller calls",
			edges: []promtriage.Edge{e("edge", "cart", "", 50, 3), e("cart", "catalog", "", 50, 3)},
			path:  "cart>catalog", cause: "catalog", team: "discovery",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := promtriage.Blame(promtriage.NewGraph(tc.edges), tc.from, own)
			require.NoError(t, err)
			require.Len(t, fs, 1)
			f := fs[0]
			require.Equal(t, []string{tc.path, tc.cause, tc.peer, tc.team}, []string{path(f), f.Cause, f.Peer, f.Team})
		})
	}
}

func TestBlameNothingFailed(t *testing.T) {
	g := promtriage.NewGraph([]promtriage.Edge{e("user", "edge", "", 100, 0), e("edge", "cart", "", 100, 7)})
	fs, err := promtriage.Blame(g, "", nil)
	require.NoError(t, err)
	require.Empty(t, fs, "edge failed no request: nothing to triage")
	var b bytes.Buffer
	require.NoError(t, (&promtriage.Report{Prometheus: "p", Window: time.Hour, Findings: fs}).WriteText(&b))
	require.Contains(t, b.String(), "nothing to triage")
}

func TestReportText(t *testing.T) {
	g := promtriage.NewGraph([]promtriage.Edge{e("user", "edge", "", 200, 10), e("edge", "cart", "", 50, 4), e("cart", "db", "database", 80, 4)})
	fs, err := promtriage.Blame(g, "", nil)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, (&promtriage.Report{Prometheus: "http://p:9090", Window: time.Hour, Edges: len(g.Edges), Findings: fs}).WriteText(&b))
	require.Equal(t, `service graph of http://p:9090: 3 edges over 1h0m0s ending now

from edge: 10 of 200 requests failed (5.0%)
  edge -> cart: 4 of 50 calls failed (8.0%), up to 40.0% of edge's failures
  cart -> db (database, sends no spans): 4 of 80 calls failed (5.0%), up to 100.0% of cart's failures
  most likely cause: cart (its calls to db fail): page team (unknown: not in an ownership file)
`, b.String())
}

// What a Prometheus answers, or something posing as one: every wrong
// answer is an error naming the server, never a panic or an unbounded read.
func TestClientErrors(t *testing.T) {
	var body string
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/prefix/api/v1/query":
		case "/slow/api/v1/query":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		default:
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"error answer", `{"status":"error","errorType":"bad_data","error":"parse error"}`, 400, `"bad_data": "parse error"`},
		{"not JSON", "<html>proxy login</html>", 200, "HTTP 200, not a Prometheus API answer"},
		{"wrong type", `{"status":"success","data":{"resultType":"matrix","result":[]}}`, 200, `want an instant vector, got "matrix"`},
		{"malformed data", `{"status":"success","data":{"resultType":"vector","result":{}}}`, 200, "malformed data"},
		{"too large", `{"status":"success","data":{"resultType":"vector","result":[` + strings.Repeat(`{"metric":{},"value":[1,"1"]},`, 100) + `]}}`, 200, "response larger than 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, status = tc.body, tc.status
			c, err := promtriage.NewClient(srv.URL+"/prefix/", time.Second)
			require.NoError(t, err)
			defer c.Close()
			c.MaxBytes = 1024
			_, _, err = c.Query(ctx, "up", time.Time{})
			require.ErrorContains(t, err, tc.want)
			require.Contains(t, err.Error(), srv.URL)
		})
	}

	body, status = `{"status":"success","data":{"resultType":"vector","result":[`+
		`{"metric":{"client":"a","server":"b"},"value":[1,"2"]},{"metric":{"client":"a","server":"c"},"value":[1,"NaN"]},`+
		`{"metric":{"server":"c"},"value":[1,"3"]},{"metric":{"client":"a","server":"d"},"value":[1,"+Inf"]}]}}`, 200
	c, err := promtriage.NewClient(srv.URL+"/prefix", time.Second)
	require.NoError(t, err)
	defer c.Close()
	g, err := promtriage.Fetch(ctx, c, time.Time{}, time.Hour)
	require.NoError(t, err)
	require.Equal(t, []promtriage.Edge{e("a", "b", "", 2, 2)}, g.Edges)
	require.Equal(t, 6, g.Skipped, "NaN, +Inf and a sample without client, in both queries")

	slow, err := promtriage.NewClient(srv.URL+"/slow", 200*time.Millisecond)
	require.NoError(t, err)
	defer slow.Close()
	_, _, err = slow.Query(ctx, "up", time.Time{})
	require.ErrorContains(t, err, "Client.Timeout")

	for _, bad := range []string{"127.0.0.1:9090", "ftp://h", "http://", "http://h/?q=1", "http://user:secret@h:9090/%zz"} {
		_, err := promtriage.NewClient(bad, 0)
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), "secret")
	}
	c2, err := promtriage.NewClient("http://user:secret@127.0.0.1:1", time.Second)
	require.NoError(t, err)
	defer c2.Close()
	_, _, err = c2.Query(ctx, "up", time.Time{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret")
}
