// Package browsertest loads pages in Debian's headless Chromium for tests
// of the pages flowtrace serves: the DOM after load and the console
// messages the page caused. Under CI=true a missing chromium fails the
// test (.ci/run installs it); elsewhere the test is skipped with a
// message.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Load opens url in a fresh headless Chromium profile and returns the
// serialized DOM after load and every console message logged.
func Load(t testing.TB, url string) (dom string, console []string) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not in PATH: .ci/run installs the Debian package chromium")
		}
		t.Skip("chromium not in PATH (apt-get install chromium)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The flags keep Chromium off the network it would otherwise try
	// (updates, sync, Google lookups) and out of any user profile.
	cmd := exec.CommandContext(ctx, path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return string(out), console
}
