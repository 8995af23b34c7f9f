package flowtrace

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(secretsChildEnv) == "1" {
		secretsChild()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
