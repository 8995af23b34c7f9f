package red_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/analysis/internal/golden"
	"github.com/flowtrace/flowtrace/analysis/red"
)

// testdata/model/skew.jsonl: ten requests, one a second (0 s .. 9 s, each
// 100 ms), edge calling catalog; catalog's clock runs 30 s fast. The true
// window is 0 .. 9.1 s, so each operation runs at 10/9.1 = 1.098901/s. Taken
// from the raw spans it would be 0 .. 39.08 s, deflating every rate to
// 10/39.08 = 0.255885/s.
func TestClockSkewWindow(t *testing.T) {
	r := red.Compute(golden.Model(t, "skew.jsonl"))
	require.Equal(t, 9100*time.Millisecond, r.Window)
	require.Len(t, r.Rows, 2)
	for _, row := range r.Rows {
		require.Equal(t, 1.098901, row.Rate, "%s %s", row.Service, row.Operation)
		require.Equal(t, 10, row.Count)
	}
	// Catalog's duration is its own clock's and unchanged: 60 ms.
	require.Equal(t, 60*time.Millisecond, r.Rows[0].P50)
	require.Equal(t, 10, r.Integrity.SkewShifted)
	var b bytes.Buffer
	require.NoError(t, r.WriteTable(&b))
	require.Contains(t, b.String(), "data: 10 spans shifted for clock skew in 10 traces\n")
}

// testdata/model/broken.jsonl (see package trace's tests): the report
// counts orphans and unpaired spans.
func TestBrokenCounts(t *testing.T) {
	r := red.Compute(golden.Model(t, "broken.jsonl"))
	in := r.Integrity
	require.Equal(t, [4]int{1, 2, 2, 2}, [4]int{in.NoRoot, in.Orphans, in.UnpairedClients, in.UnpairedServers})
}
