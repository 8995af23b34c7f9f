package config

import (
	"testing"

	"go.uber.org/goleak"
)

// Cloud detection starts goroutines and HTTP connections; all must be gone
// when Load returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
