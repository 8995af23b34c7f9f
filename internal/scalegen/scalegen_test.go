package scalegen_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
	"github.com/flowtrace/flowtrace/internal/scalegen"
)

func TestWriteIsOTLP(t *testing.T) {
	var buf bytes.Buffer
	st, err := scalegen.Write(&buf, scalegen.Config{Spans: 5000, Seed: 3})
	require.NoError(t, err)
	require.GreaterOrEqual(t, st.Spans, 5000)
	require.Equal(t, int64(buf.Len()), st.Bytes)
	spans, err := source.Read(&buf, "gen.jsonl")
	require.NoError(t, err)
	require.Len(t, spans, st.Spans)
	traces := trace.Assemble(spans)
	require.Len(t, traces, st.Traces)
	services := map[string]bool{}
	for _, tr := range traces {
		require.NotNil(t, tr.Root(), "every trace is whole")
		require.Empty(t, tr.Orphans())
		for _, s := range tr.Spans {
			services[s.Service] = true
		}
	}
	require.Len(t, services, 5)
	// The default window holds every trace whole.
	a := trace.NewAssembler(func(*trace.Trace) {})
	a.AddAll(spans)
	a.Close()
	require.Zero(t, a.Stats().Split)
	require.Equal(t, st.Traces, a.Stats().Traces)
}
