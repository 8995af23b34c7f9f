//go:build unix

package sigterm

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace"
	"github.com/flowtrace/flowtrace/tracetest"
)

// readmeMain returns the README's complete program: the first Go code
// block that starts with "package main".
func readmeMain(t *testing.T, root string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	_, rest, ok := bytes.Cut(b, []byte("```go\npackage main\n"))
	require.True(t, ok, "README.md has no complete main (a ```go block starting with package main)")
	body, _, ok := bytes.Cut(rest, []byte("\n```"))
	require.True(t, ok)
	return append([]byte("package main\n"), body...)
}

// build compiles src inside flowtrace's module and returns the binary.
func build(t *testing.T, root string, src []byte) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "main.go")
	require.NoError(t, os.WriteFile(file, src, 0o600))
	bin := filepath.Join(dir, "readme-main")
	//lint:ignore SA1019 the test wants the toolchain that built it, which GOROOT names.
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, file)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "README.md"))
	require.NoError(t, err)
	return dir
}

// child is the running program and what it prints.
type child struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	addr chan string
	done chan struct{}
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// start runs bin with only the variables given (plus PATH and HOME), so
// the machine's OTEL_* settings cannot leak in.
func start(t *testing.T, bin string, env ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin), addr: make(chan string, 1), done: make(chan struct{})}
	c.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"ADDR=127.0.0.1:0", "FLOWTRACE_K8S_LABELS_FILE=" + filepath.Join(t.TempDir(), "no-labels")}, env...)
	stderr, err := c.cmd.StderrPipe()
	require.NoError(t, err)
	c.cmd.Stdout = io.Discard
	require.NoError(t, c.cmd.Start())
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.out.WriteString(line + "\n")
			c.mu.Unlock()
			if _, a, ok := strings.Cut(line, "listening on "); ok {
				c.addr <- a
			}
		}
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
		if t.Failed() {
			t.Logf("child output:\n%s", c.output())
		}
	})
	return c
}

func (c *child) listening(t *testing.T) string {
	t.Helper()
	select {
	case a := <-c.addr:
		return a
	case <-time.After(time.Minute):
		t.Fatalf("the program did not start listening:\n%s", c.output())
		return ""
	}
}

// stop sends SIGTERM and returns how the process ended and how long that
// took after the signal.
func (c *child) stop(t *testing.T) (*os.ProcessState, time.Duration) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	start := time.Now()
	<-c.done // stderr closed: the process is gone
	err := c.cmd.Wait()
	elapsed := time.Since(start)
	var exit *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &exit)
	}
	return c.cmd.ProcessState, elapsed
}

func get(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestReadmeMainSIGTERM: the README's main, stopped with SIGTERM while 300
// spans wait in the export queue (a one-hour schedule delay keeps them
// there), delivers all of them and exits 0 within the Close deadline. The
// README's main on 030e853 (defer tracing.Close() without catching SIGTERM)
// died of the signal with 0 of 300 spans received.
func TestReadmeMainSIGTERM(t *testing.T) {
	root := repoRoot(t)
	bin := build(t, root, readmeMain(t, root))

	t.Run("healthy collector", func(t *testing.T) {
		rcv, err := tracetest.NewReceiver()
		require.NoError(t, err)
		defer rcv.Close()
		c := start(t, bin,
			"OTEL_SERVICE_NAME=readme-main",
			"OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.GRPCEndpoint(),
			"OTEL_BSP_SCHEDULE_DELAY=3600000",
			"OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048")
		base := "http://" + c.listening(t)
		const requests = 150 // a server span and a "greet" span each
		for range requests {
			get(t, base+"/hello")
		}
		require.Empty(t, rcv.Spans(), "the spans are still queued when SIGTERM arrives")

		state, elapsed := c.stop(t)
		require.True(t, state.Exited(), "the process exits instead of dying of the signal: %v", state)
		require.Equal(t, 0, state.ExitCode())
		require.Less(t, elapsed, flowtrace.CloseTimeout, "exits within the Close deadline")
		t.Logf("exit 0 %v after SIGTERM", elapsed.Round(time.Millisecond))

		spans := rcv.Spans()
		require.Len(t, spans, 2*requests)
		names := map[string]int{}
		for _, s := range spans {
			require.Equal(t, "readme-main", s.Resource["service.name"])
			names[s.Name]++
		}
		require.Equal(t, map[string]int{"GET /hello": requests, "greet": requests}, names)
	})

	t.Run("blackholed collector", func(t *testing.T) {
		bh, err := tracetest.NewBlackhole()
		require.NoError(t, err)
		defer bh.Close()
		c := start(t, bin,
			"OTEL_EXPORTER_OTLP_ENDPOINT="+bh.Endpoint(),
			"OTEL_EXPORTER_OTLP_TIMEOUT=60000",
			"OTEL_BSP_SCHEDULE_DELAY=3600000")
		base := "http://" + c.listening(t)
		for range 10 {
			get(t, base+"/hello")
		}
		state, elapsed := c.stop(t)
		require.True(t, state.Exited(), "%v", state)
		require.Less(t, elapsed, flowtrace.CloseTimeout+5*time.Second,
			"Close gives up after CloseTimeout even when the collector never answers")
		require.Contains(t, c.output(), "dropped", "the lost spans are counted and said")
		t.Logf("blackholed collector: exit %d %v after SIGTERM", state.ExitCode(), elapsed.Round(time.Millisecond))
	})
}
