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
		// standalone: WithReplace instead of a workspace, built with
		// GOWORK=off and GOPROXY=off: go.mod and the generated go.sum alone
		// must be enough.
		standalone bool
	}{
		{name: "greeter", module: "example.com/team/greeter"},
		{name: "order-events", module: "example.com/team/order-events/v2", grpc: true, kafka: true, ownWorkspace: true},
		{name: "standalone", module: "example.com/team/standalone", kafka: true, standalone: true},
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
			switch {
			case tc.standalone:
				gowork = "off"
				opts = append(opts, WithReplace(root))
			case tc.ownWorkspace:
				gowork = filepath.Join(tmp, "go.work")
				work := fmt.Sprintf("go %s\n\nuse (\n\t./%s\n\t%s\n)\n\n%s", goVersion, tc.name, root, workspaceReplace(root))
				if err := os.WriteFile(gowork, []byte(work), 0o644); err != nil {
					t.Fatal(err)
				}
			default:
				opts = append(opts, WithWorkspace(root))
			}
			if err := Generate(svc, tc.name, opts...); err != nil {
				t.Fatal(err)
			}
			goEnv := append(os.Environ(), "GOWORK="+gowork, "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
			if tc.standalone {
				// Everything from the module cache, checked against the
				// generated go.sum: go mod tidy (which flowtrace new --replace
				// runs) completes go.mod offline, then the build is a plain
				// read-only one.
				goEnv = append(goEnv, "GOPROXY=off")
				runGo(ctx, t, goBin, svc, append(goEnv, "GOFLAGS=-buildvcs=false -mod=mod"), "mod", "tidy")
			}
			bin := filepath.Join(tmp, "bin")
			start := time.Now()
			runGo(ctx, t, goBin, svc, goEnv, append(append([]string{"build"}, buildFlags...), "-o", bin+string(filepath.Separator), "./...")...)
			t.Logf("go build: %v", time.Since(start).Round(time.Millisecond))
			runGo(ctx, t, goBin, svc, goEnv, "vet", "./...")
			start = time.Now()
			runGo(ctx, t, goBin, svc, goEnv, append(append([]string{"test"}, buildFlags...), "-count=1", "./...")...)
			t.Logf("go test: %v", time.Since(start).Round(time.Millisecond))
			runService(ctx, t, filepath.Join(bin, tc.name), tc.name, tc.grpc, tc.kafka)
			if tc.standalone {
				untracedHandlerFails(ctx, t, goBin, svc, goEnv)
			}
		})
	}
}

// untracedHandlerFails unwraps the generated handler (the mux without
// tracehttp) and checks that the service's own tests then fail, naming the
// missing server span.
func untracedHandlerFails(ctx context.Context, t *testing.T, goBin, svc string, env []string) {
	t.Helper()
	p := filepath.Join(svc, "handler.go")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, "return tracehttp.NewHandler(mux,")
	j := strings.Index(src[max(i, 0):], ")\n}\n")
	if i < 0 || j < 0 {
		t.Fatalf("handler.go has no tracehttp.NewHandler(mux, ...) to remove:\n%s", src)
	}
	src = src[:i] + "_ = tracehttp.NewHandler\n\treturn mux" + src[i+j+1:]
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "-run", "TestHelloIsTraced", ".")
	cmd.Dir, cmd.Env = svc, env
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the service's tests pass with an untraced handler:\n%s", out)
	}
	if want := `no server span "GET /hello/{name}"`; !strings.Contains(string(out), want) {
		t.Errorf("the untraced handler's test failure does not say %q:\n%s", want, out)
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
		"DRAIN_DELAY=3s",
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
	for path, want := range map[string]int{"/livez": http.StatusOK, "/readyz": http.StatusOK} {
		if got := statusOf(ctx, t, base+path); got != want {
			t.Errorf("GET %s before SIGTERM: status %d, want %d", path, got, want)
		}
	}

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
	// During the drain delay the service is not ready but still serves.
	logs.waitFor(ctx, t, "msg=draining")
	if got := statusOf(ctx, t, base+"/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz while draining: status %d, want %d", got, http.StatusServiceUnavailable)
	}
	const drainFlow = "e2e-flow-draining"
	if got := statusOf(ctx, t, base+"/hello/draining", drainFlow); got != http.StatusOK {
		t.Errorf("GET /hello/draining while draining: status %d, want %d (in-flight and new requests are still served)", got, http.StatusOK)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("service exit after SIGTERM: %v", err)
	}

	// Shutdown flushed the spans before the process exited.
	want := map[string]bool{"GET /hello/{name}": false}
	if hasKafka {
		want["send "+name] = false
		want["process "+name] = false
	}
	for _, s := range rcv.Spans() {
		if _, ok := want[s.Name]; ok && s.Resource["service.name"] == name {
			want[s.Name] = true
		}
		if got := s.Attributes["flow_id"]; s.Name == "GET /hello/{name}" && got != flow && got != drainFlow {
			t.Errorf("server span flow_id = %v, want %q or %q", got, flow, drainFlow)
		}
		if strings.Contains(s.Name, "livez") || strings.Contains(s.Name, "readyz") || strings.Contains(s.Name, "grpc.health") {
			t.Errorf("health check traced: span %q", s.Name)
		}
	}
	for span, seen := range want {
		if !seen {
			t.Errorf("no span %q with service.name %q among %d received", span, name, rcv.SpanCount())
		}
	}
}

// statusOf GETs url and returns the status code.
func statusOf(ctx context.Context, t *testing.T, url string, flowID ...string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range flowID {
		req.Header.Set("X-Flow-ID", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
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
			k == "NODE_NAME", k == "HOST_IP", k == "NODE_IP", k == "PORT", k == "GRPC_PORT", k == "DOWNSTREAM_URL", k == "DRAIN_DELAY":
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
