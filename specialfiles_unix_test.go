//go:build unix

package flowtrace

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/config"
)

// startPromptly runs Start with env and the real file system (the files
// are the point) and returns the Tracing and what Start printed. It fails
// if Start has not returned after a bound far above its normal cost: on
// 030e853 a FIFO blocked it forever and /dev/zero ran it out of memory.
func startPromptly(t *testing.T, env map[string]string, opts ...config.Option) (*Tracing, string) {
	t.Helper()
	var out bytes.Buffer
	orig := stderr
	stderr = &out
	defer func() { stderr = orig }()
	done := make(chan *Tracing, 1)
	go func() {
		done <- Start(context.Background(), append([]config.Option{
			config.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
			WithoutGlobalTracer(),
		}, opts...)...)
	}()
	select {
	case tracing := <-done:
		t.Cleanup(func() { _ = shutdown(t, tracing, 5*time.Second) })
		return tracing, out.String()
	case <-time.After(20 * time.Second):
		t.Fatal("Start did not return: blocked on a special file")
		return nil, ""
	}
}

// specialFiles makes the hostile files of docs/hostile-inputs.md: a FIFO,
// a symbolic link to it, a directory, /dev/zero and an 8 GiB (sparse) file.
func specialFiles(t *testing.T) map[string]string {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	link := filepath.Join(dir, "fifo-link")
	require.NoError(t, os.Symlink(fifo, link))
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(8<<30))
	require.NoError(t, f.Close())
	sub := filepath.Join(dir, "dir")
	require.NoError(t, os.Mkdir(sub, 0o700))
	return map[string]string{"fifo": fifo, "symlink to fifo": link, "directory": sub, "dev zero": "/dev/zero", "huge file": huge}
}

func warnings(out string) []string {
	var w []string
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, "flowtrace: warning:") {
			w = append(w, line)
		}
	}
	return w
}

func TestStartSemconvRegistrySpecialFile(t *testing.T) {
	for name, path := range specialFiles(t) {
		t.Run(name, func(t *testing.T) {
			tracing, out := startPromptly(t, map[string]string{
				"OTEL_TRACES_EXPORTER":       "none",
				"FLOWTRACE_SEMCONV_MODE":     "strict",
				"FLOWTRACE_SEMCONV_REGISTRY": path,
			})
			w := warnings(out)
			require.Len(t, w, 1, out)
			require.Contains(t, w[0], "FLOWTRACE_SEMCONV_REGISTRY")
			require.Contains(t, w[0], "using the built-in registry")
			require.Regexp(t, "not a regular file|file too large", w[0])
			require.NotNil(t, tracing.Tracer())
		})
	}
}

func TestStartConsoleFileSpecialFile(t *testing.T) {
	files := specialFiles(t)
	delete(files, "huge file") // appending to a big regular file is fine
	for name, path := range files {
		t.Run(name, func(t *testing.T) {
			tracing, out := startPromptly(t, map[string]string{
				"OTEL_TRACES_EXPORTER":   "console",
				"FLOWTRACE_CONSOLE_FILE": path,
			})
			w := warnings(out)
			require.Len(t, w, 1, out)
			require.Contains(t, w[0], "console exporter")
			require.Contains(t, w[0], "not a regular file")
			require.Contains(t, w[0], "spans are not exported")
			tracing.Tracer().StartSpan("op").Finish() // non-recording, harmless
		})
	}
}

// TestStartConsoleFileStdout: /dev/stdout and /dev/stderr are the process's
// own streams, not opened (under a pipe, /dev/stdout is a FIFO and would be
// refused).
func TestStartConsoleFileStdout(t *testing.T) {
	for _, path := range []string{"/dev/stdout", "/dev/stderr"} {
		tracing, out := startPromptly(t, map[string]string{
			"OTEL_TRACES_EXPORTER":   "console",
			"FLOWTRACE_CONSOLE_FILE": path,
		})
		require.Empty(t, warnings(out), out)
		require.Contains(t, out, "exporter=console file="+path)
		require.NotNil(t, tracing.batcher, "the console exporter is running")
	}
}

func TestStartLabelsFileSpecialFile(t *testing.T) {
	for name, path := range specialFiles(t) {
		t.Run(name, func(t *testing.T) {
			_, out := startPromptly(t, map[string]string{
				"OTEL_TRACES_EXPORTER":      "none",
				"FLOWTRACE_K8S_LABELS_FILE": path,
			})
			w := warnings(out)
			if name == "huge file" {
				require.Empty(t, w, out) // its first 64 KiB are read and hold no label
				return
			}
			require.Len(t, w, 1, out)
			require.Contains(t, w[0], "labels file")
			require.Contains(t, w[0], "not a regular file")
		})
	}
}

// TestFileWarningsEscaped: a path is text from the environment; a file
// whose name holds a newline and terminal escapes must not forge a log line
// through the warning that names it (a YAML error names its file).
func TestFileWarningsEscaped(t *testing.T) {
	dir := t.TempDir()
	evil := "reg\n2026-01-01 FORGED level=ERROR\x1b[31m"
	reg := filepath.Join(dir, evil+".yaml")
	require.NoError(t, os.WriteFile(reg, []byte("keys: [unclosed\n"), 0o600))
	fifo := filepath.Join(dir, evil+".fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, env := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "none", "FLOWTRACE_SEMCONV_MODE": "warn", "FLOWTRACE_SEMCONV_REGISTRY": reg},
		{"OTEL_TRACES_EXPORTER": "none", "FLOWTRACE_SEMCONV_MODE": "warn", "FLOWTRACE_SEMCONV_REGISTRY": fifo},
		{"OTEL_TRACES_EXPORTER": "console", "FLOWTRACE_CONSOLE_FILE": fifo},
		{"OTEL_TRACES_EXPORTER": "none", "FLOWTRACE_K8S_LABELS_FILE": fifo},
	} {
		_, out := startPromptly(t, env)
		require.Len(t, warnings(out), 1, out)
		require.Contains(t, out, "FORGED", "the name is shown, escaped")
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			require.True(t, strings.HasPrefix(line, "flowtrace:"), "a line the SDK did not write: %q", line)
			require.NotContains(t, line, "\x1b", line)
		}
	}
}

// TestStartCertificateSpecialFile: OTEL_EXPORTER_OTLP_CERTIFICATE naming a
// FIFO, /dev/zero, a directory or a huge file. On 030e853 the otlptrace
// clients read it themselves (os.ReadFile): a FIFO blocked Start, /dev/zero
// ran it out of memory, even with an http:// endpoint that never uses it.
// Now an https endpoint gives one warning (no export) and an http endpoint
// does not read the file at all.
func TestStartCertificateSpecialFile(t *testing.T) {
	for name, path := range specialFiles(t) {
		t.Run(name, func(t *testing.T) {
			for _, protocol := range []string{config.ProtocolGRPC, config.ProtocolHTTPProtobuf} {
				tracing, out := startPromptly(t, map[string]string{
					"OTEL_EXPORTER_OTLP_PROTOCOL":    protocol,
					"OTEL_EXPORTER_OTLP_ENDPOINT":    "https://127.0.0.1:4317",
					"OTEL_EXPORTER_OTLP_CERTIFICATE": path,
				})
				w := warnings(out)
				require.Len(t, w, 1, out)
				require.Contains(t, w[0], "certificate")
				require.Regexp(t, "not a regular file|file too large", w[0])
				require.Contains(t, w[0], "spans are not exported")
				require.Nil(t, tracing.batcher)

				_, out = startPromptly(t, map[string]string{
					"OTEL_EXPORTER_OTLP_PROTOCOL":    protocol,
					"OTEL_EXPORTER_OTLP_ENDPOINT":    "http://127.0.0.1:4317",
					"OTEL_EXPORTER_OTLP_CERTIFICATE": path,
				})
				require.Empty(t, warnings(out), "plaintext: the certificate is not read")
			}
		})
	}
}
