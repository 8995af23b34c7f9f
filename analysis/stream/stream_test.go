package stream_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/analysis/deps"
	"github.com/flowtrace/flowtrace/analysis/estimate"
	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/red"
	"github.com/flowtrace/flowtrace/analysis/slo"
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/stream"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/analysis/triage"
)

const forecast = "checkout=1200/s,browse=30000/s,add-to-cart=300000/m"

type results struct {
	graph *deps.Graph
	red   *red.Report
	est   *estimate.Estimate
}

// inMemory is what the tools give on the whole file in memory.
func inMemory(t *testing.T, path string) results {
	spans, err := source.ReadFile(path)
	require.NoError(t, err)
	traces := trace.Assemble(spans)
	fc, err := estimate.ParseForecast(forecast)
	require.NoError(t, err)
	return results{deps.Build(traces), red.Compute(traces), estimate.Compute(trace.ExcludeTraffic(traces, "load-test"), fc)}
}

// streamed is what the tools give reading the file trace by trace.
func streamed(t *testing.T, path string, cfg stream.Config) (results, stream.Summary) {
	fc, err := estimate.ParseForecast(forecast)
	require.NoError(t, err)
	cfg.Index = trace.NewSpanIndex(trace.DefaultIndexSpans)
	b := deps.NewBuilder(cfg.Index)
	r := red.NewAggregator()
	e := estimate.NewAccumulator(fc, cfg.Index)
	sum, err := stream.Files([]string{path}, cfg, stream.Fanout(b.Add, r.Add, trace.Chain(e.Add, trace.ExcludeTrafficStep("load-test"))))
	require.NoError(t, err)
	return results{b.Graph(), r.Report(), e.Estimate()}, sum
}

func files(t *testing.T) []string {
	out := []string{golden.ShopFile(), filepath.Join(golden.Testdata(), "demo.jsonl")}
	model, err := filepath.Glob(filepath.Join(golden.Testdata(), "model", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, model)
	return append(out, model...)
}

// On the shop data, the demo's recording and the trace-model files
// (broken traces, links, peers, retries, clock skew), the streamed results
// equal the in-memory ones exactly: every trace fits the window, and the
// sketches are exact below 1024 samples.
func TestStreamedEqualsInMemory(t *testing.T) {
	for _, path := range files(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := inMemory(t, path)
			got, sum := streamed(t, path, stream.Config{})
			require.Zero(t, sum.Split)
			require.Equal(t, want.graph, got.graph)
			require.Equal(t, want.red, got.red)
			require.Equal(t, want.est, got.est)
		})
	}
}

// interleave rewrites a span file so that the traces' spans are dealt out
// round robin: span i of every trace, then span i+1 of every trace. With
// T traces, T-1 spans of other traces lie between two spans of one trace.
func interleave(t *testing.T, path, out string) (traces int) {
	spans, err := source.ReadFile(path)
	require.NoError(t, err)
	byTrace := map[string][]*trace.Span{}
	var order []string
	for _, s := range spans {
		if byTrace[s.TraceID] == nil {
			order = append(order, s.TraceID)
		}
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	// Re-encode each span as its own request line, in round-robin order.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	type key struct{ trace, span string }
	enc := map[key][]byte{}
	var um ptrace.JSONUnmarshaler
	var m ptrace.JSONMarshaler
	for _, line := range lines {
		td, err := um.UnmarshalTraces(line)
		require.NoError(t, err)
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				ss := rs.ScopeSpans().At(j)
				for k := 0; k < ss.Spans().Len(); k++ {
					sp := ss.Spans().At(k)
					one := ptrace.NewTraces()
					ors := one.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(ors.Resource())
					oss := ors.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(oss.Scope())
					sp.CopyTo(oss.Spans().AppendEmpty())
					b, err := m.MarshalTraces(one)
					require.NoError(t, err)
					enc[key{sp.TraceID().String(), sp.SpanID().String()}] = b
				}
			}
		}
	}
	var buf bytes.Buffer
	for i := 0; ; i++ {
		added := false
		for _, id := range order {
			if i < len(byTrace[id]) {
				buf.Write(enc[key{id, byTrace[id][i].SpanID}])
				buf.WriteByte('\n')
				added = true
			}
		}
		if !added {
			break
		}
	}
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
	return len(order)
}

// Traces interleaved beyond the window are analysed in pieces, counted as
// split: each piece is a trace of its own, so the pieces' cut calls show
// as unpaired calls and orphans, and the results differ from the in-memory
// ones. A window larger than the interleaving gives the in-memory results
// again.
func TestStreamInterleavedBeyondWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "interleaved.jsonl")
	n := interleave(t, golden.ShopFile(), path)
	want := inMemory(t, path)
	require.Equal(t, inMemory(t, golden.ShopFile()).red.Rows, want.red.Rows, "the file holds the same spans")

	got, sum := streamed(t, path, stream.Config{Window: n / 2, MaxHeld: 10 * n})
	require.Positive(t, sum.Split)
	require.Greater(t, sum.Traces, n)
	require.Greater(t, got.graph.Integrity.Orphans, want.graph.Integrity.Orphans, "cut traces have orphans")
	require.NotEqual(t, want.est.Operations, got.est.Operations)

	got, sum = streamed(t, path, stream.Config{Window: n, MaxHeld: 10 * n})
	require.Zero(t, sum.Split)
	require.Equal(t, n, sum.Traces)
	require.Equal(t, want.graph, got.graph)
	require.Equal(t, want.red, got.red)
	require.Equal(t, want.est, got.est)
}

// slo and triage streamed (an Evaluator and a Triager fed trace by trace,
// in the order the assembler completes traces) give exactly what
// Evaluate and Analyze give on all the traces in memory, on the SLO files'
// data (burn rates over 4 days, selectors) and on every file above.
func TestStreamedSLOAndTriageEqualInMemory(t *testing.T) {
	sloDir := filepath.Join(golden.Testdata(), "..", "slo", "testdata")
	type pair struct{ data, slos string }
	pairs := []pair{
		{filepath.Join(sloDir, "burn.jsonl"), filepath.Join(sloDir, "burn.yaml")},
		{filepath.Join(sloDir, "checkout.jsonl"), filepath.Join(sloDir, "checkout.yaml")},
	}
	for _, f := range files(t) {
		pairs = append(pairs, pair{f, filepath.Join(golden.Testdata(), "slos.yaml")})
	}
	for _, p := range pairs {
		t.Run(filepath.Base(p.data)+"+"+filepath.Base(p.slos), func(t *testing.T) {
			cfg, err := slo.LoadFile(p.slos)
			require.NoError(t, err)
			spans, err := source.ReadFile(p.data)
			require.NoError(t, err)
			traces := trace.ExcludeTraffic(trace.Assemble(spans), "load-test")
			now := slo.Latest(traces)
			want := slo.Evaluate(cfg, traces, now)

			ev := slo.NewEvaluator(cfg)
			tr := triage.NewTriager(cfg.SLOs)
			_, err = stream.Files([]string{p.data}, stream.Config{Steps: []trace.Step{trace.ExcludeTrafficStep("load-test")}}, stream.Fanout(ev.Add, tr.Add))
			require.NoError(t, err)
			require.Equal(t, now, ev.Latest())
			require.Equal(t, want, ev.Report(now))
			bad := 0
			for i, s := range cfg.SLOs {
				w := triage.Analyze(s, traces, now)
				bad += w.BadEvents
				require.Equal(t, w, tr.Report(i, now), s.Name)
			}
			if filepath.Base(p.data) == "burn.jsonl" {
				require.Positive(t, bad, "the comparison covers bad events")
			}
		})
	}
}
