package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The checker runs the embedded receiver and broker in-process: none of
// their goroutines may outlive a run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCheckerPassesAndFails runs step 3's checker on its solution (passes)
// and on the state before it (fails with the step's message), in-process.
// ci.sh proves the whole matrix with prebuilt binaries.
func TestCheckerPassesAndFails(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	for _, tc := range []struct {
		dir  string
		want string // "" passes
	}{
		{dir: "solutions/step3"},
		{dir: "solutions/step2", want: "the edge's gRPC call to the cart has no client span"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			bin, err := buildShop(ctx, filepath.Join("..", tc.dir), filepath.Join(tmp, filepath.Base(tc.dir)))
			require.NoError(t, err)
			var out bytes.Buffer
			err = run(ctx, options{step: 3, dir: filepath.Join("..", tc.dir), bin: bin}, &out)
			if tc.want == "" {
				require.NoError(t, err, out.String())
				return
			}
			var nyet *notYet
			require.ErrorAs(t, err, &nyet)
			require.Equal(t, 3, nyet.step)
			require.Contains(t, nyet.msg, tc.want)
		})
	}
}
