package orders_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// servers returns a PostgreSQL DSN and a redis-server address: the ones
// FLOWTRACE_POSTGRES_DSN and FLOWTRACE_REDIS_ADDR name (.ci/run starts
// both), or else throwaway servers that scripts/otelservers.sh starts for
// this test. Without the servers the test fails in CI (CI=true) and is
// skipped elsewhere.
func servers(t *testing.T) (dsn, redisAddr string) {
	t.Helper()
	dsn, redisAddr = os.Getenv("FLOWTRACE_POSTGRES_DSN"), os.Getenv("FLOWTRACE_REDIS_ADDR")
	if dsn != "" && redisAddr != "" {
		return dsn, redisAddr
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "otelservers.sh")
	// Not t.TempDir: its parent is private to this user, and as root the
	// cluster runs as the postgres user, which must reach its directory.
	dir, err := os.MkdirTemp("", "flowtrace-otelservers-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command(script, "stop", dir).Run()
		_ = os.RemoveAll(dir)
	})
	var stderr bytes.Buffer
	cmd := exec.Command(script, "start", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := "PostgreSQL and redis-server could not be started (apt-get install -y postgresql redis-server, or set FLOWTRACE_POSTGRES_DSN and FLOWTRACE_REDIS_ADDR): " + err.Error() + "\n" + stderr.String()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, "'")
		switch k {
		case "FLOWTRACE_POSTGRES_DSN":
			dsn = v
		case "FLOWTRACE_REDIS_ADDR":
			redisAddr = v
		}
	}
	if dsn == "" || redisAddr == "" {
		t.Fatalf("otelservers.sh printed no addresses: %q", out)
	}
	return dsn, redisAddr
}
