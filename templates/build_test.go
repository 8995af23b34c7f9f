package templates

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
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

	"github.com/segmentio/kafka-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flowtrace/flowtrace/internal/kafkatest"
	"github.com/flowtrace/flowtrace/tracetest"
)

// TestGeneratedService generates services with the real toolchain: it
// builds them, runs their tests, starts them against an OTLP receiver and
// checks that their spans arrive. flowtrace is unpublished, so a go.work
// beside the service uses the generated directory and this repository.
// Dependencies come from the module cache (through the default proxy
// settings for anything missing).
func TestGeneratedService(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs generated services with the go toolchain")
	}
	goBin := goTool(t)
	root := repoRoot(t)
	for _, tc := range []struct {
		name        string
		module      string
		grpc, kafka bool
		// ownWorkspace: the test writes go.work beside the service, as the
		// README tells users to; otherwise the generator writes it
		// (WithWorkspace).
		ownWorkspace bool
	}{
		{name: "greeter", module: "example.com/team/greeter"},
		{name: "order-events", module: "example.com/team/order-events/v2", grpc: true, kafka: true, ownWorkspace: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			tmp := t.TempDir()
			svc := filepath.Join(tmp, tc.name)
			opts := []Option{WithModule(tc.module)}
			if tc.grpc {
				opts = append(opts, WithGRPC())
			}
			if tc.kafka {
				opts = append(opts, WithKafka())
			}
			gowork := filepath.Join(svc, "go.work")
			if tc.ownWorkspace {
				gowork = filepath.Join(tmp, "go.work")
				work := fmt.Sprintf("go %s\n\nuse (\n\t./%s\n\t%s\n)\n\n%s", goVersion, tc.name, root, workspaceReplace(root))
				if err := os.WriteFile(gowork, []byte(work), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				opts = append(opts, WithWorkspace(root))
			}
			if err := Generate(svc, tc.name, opts...); err != nil {
				t.Fatal(err)
			}
			goEnv := append(os.Environ(), "GOWORK="+gowork, "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
			bin := filepath.Join(tmp, "bin")
			start := time.Now()
			runGo(ctx, t, goBin, svc, goEnv, append(append([]string{"build"}, buildFlags...), "-o", bin+string(filepath.Separator), "./...")...)
			t.Logf("go build: %v", time.Since(start).Round(time.Millisecond))
			runGo(ctx, t, goBin, svc, goEnv, "vet", "./...")
			start = time.Now()
			runGo(ctx, t, goBin, svc, goEnv, append(append([]string{"test"}, buildFlags...), "-count=1", "./...")...)
			t.Logf("go test: %v", time.Since(start).Round(time.Millisecond))
			runService(ctx, t, filepath.Join(bin, tc.name), tc.name, tc.grpc, tc.kafka)
		})
	}
}

// buildFlags are added to the go build and go test of generated services.
var buildFlags []string

// workspaceReplace is the go.work replace directive that maps the
// placeholder version to the local flowtrace. Using a module in a workspace
// does not replace the version other modules require (MVS still reads that
// version's go.mod, which no proxy has), hence the versioned replace; see
// golang/go#66516.
func workspaceReplace(root string) string {
	return fmt.Sprintf("replace github.com/flowtrace/flowtrace %s => %s\n", PlaceholderVersion, root)
}

func runGo(ctx context.Context, t *testing.T, goBin, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// runService starts the built service with an OTLP receiver as its
// collector, sends it a request (and with Kafka a message), stops it with
// SIGTERM and checks its spans.
func runService(ctx context.Context, t *testing.T, bin, name string, hasGRPC, hasKafka bool) {
	rcv, err := tracetest.NewReceiver()
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()

	env := cleanEnv(
		"OTEL_EXPORTER_OTLP_ENDPOINT="+rcv.GRPCEndpoint(),
		"PORT=0",
		"GRPC_PORT=0",
		// Absolute and missing: no labels, whatever this machine has.
		"FLOWTRACE_K8S_LABELS_FILE="+filepath.Join(t.TempDir(), "no-labels"),
	)
	if hasKafka {
		broker := kafkatest.NewBroker(t, name)
		env = append(env, "KAFKA_BROKERS="+broker)
		transport := &kafka.Transport{}
		w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: name, RequiredAcks: kafka.RequireOne, Transport: transport}
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: []byte("hello")}); err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
		transport.CloseIdleConnections()
	}

	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = env
	cmd.Stdout = os.Stderr
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := newLogWatcher(stderr)
	defer func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("service output:\n%s", logs.String())
		}
	}()

	httpAddr := logs.waitFor(ctx, t, "msg=listening http=")
	port := httpAddr[strings.LastIndex(httpAddr, ":")+1:]
	base := "http://127.0.0.1:" + port

	const flow = "e2e-flow-1"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/hello/e2e", nil)
	req.Header.Set("X-Flow-ID", flow)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Flow-ID") != flow {
		t.Errorf("GET /hello/e2e: status %d, X-Flow-ID %q; want 200, %q", resp.StatusCode, resp.Header.Get("X-Flow-ID"), flow)
	}
	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if hasGRPC {
		grpcAddr := logs.waitFor(ctx, t, "msg=listening grpc=")
		conn, err := grpc.NewClient("127.0.0.1"+grpcAddr[strings.LastIndex(grpcAddr, ":"):], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		conn.Close()
		if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("gRPC health check: %v, %v; want SERVING", hc.GetStatus(), err)
		}
	}
	if hasKafka {
		logs.waitFor(ctx, t, "msg=message")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("service exit after SIGTERM: %v", err)
	}

	// Shutdown flushed the spans before the process exited.
	want := map[string]bool{"GET /hello/{name}": false}
	if hasKafka {
		want["process "+name] = false
	}
	for _, s := range rcv.Spans() {
		if _, ok := want[s.Name]; ok && s.Resource["service.name"] == name {
			want[s.Name] = true
		}
		if s.Name == "GET /hello/{name}" && s.Attributes["flow_id"] != flow {
			t.Errorf("server span flow_id = %v, want %q", s.Attributes["flow_id"], flow)
		}
		if strings.Contains(s.Name, "healthz") || strings.Contains(s.Name, "grpc.health") {
			t.Errorf("health check traced: span %q", s.Name)
		}
	}
	for span, seen := range want {
		if !seen {
			t.Errorf("no span %q with service.name %q among %d received", span, name, rcv.SpanCount())
		}
	}
}

// cleanEnv is this process's environment without anything that would
// configure flowtrace or the service differently, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "OTEL_"), strings.HasPrefix(k, "FLOWTRACE_"), strings.HasPrefix(k, "KAFKA_"),
			strings.HasPrefix(k, "POD_"), strings.HasPrefix(k, "KUBERNETES_"), strings.HasPrefix(k, "ECS_"),
			k == "NODE_NAME", k == "HOST_IP", k == "NODE_IP", k == "PORT", k == "GRPC_PORT", k == "DOWNSTREAM_URL":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// logWatcher collects a process's log lines.
type logWatcher struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newLogWatcher(r interface{ Read([]byte) (int, error) }) *logWatcher {
	w := &logWatcher{changed: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w
}

// waitFor returns the rest of the first line that contains marker, after
// the marker up to the next space.
func (w *logWatcher) waitFor(ctx context.Context, t *testing.T, marker string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		w.mu.Lock()
		for _, l := range w.lines {
			if _, rest, ok := strings.Cut(l, marker); ok {
				w.mu.Unlock()
				v, _, _ := strings.Cut(rest, " ")
				return v
			}
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("no log line with %q", marker)
		}
	}
}

func (w *logWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// goTool returns the go command of the toolchain running this test.
func goTool(t *testing.T) string {
	t.Helper()
	//lint:ignore SA1019 the test wants the toolchain that built it, which GOROOT names.
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	return p
}

// repoRoot finds flowtrace's module root above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/flowtrace/flowtrace\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("flowtrace's go.mod not found above the working directory")
		}
		dir = parent
	}
}
