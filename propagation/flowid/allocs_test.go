//go:build !race

package flowid_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation/flowid"
)

// TestNewAllocs: ids are allocated 16 at a time (one allocation each
// before): testing.AllocsPerRun's whole-number average is 0.
func TestNewAllocs(t *testing.T) {
	require.Zero(t, testing.AllocsPerRun(1600, func() { _ = flowid.New() }))
}
