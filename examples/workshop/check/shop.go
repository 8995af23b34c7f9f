package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/flowtrace/flowtrace/examples/workshop/shopkit"
	"github.com/flowtrace/flowtrace/tracetest"
)

// Bounds of a run: every wait has one, so a broken shop fails the check
// instead of hanging it.
const (
	startTimeout   = 20 * time.Second
	requestTimeout = 10 * time.Second
	consumeTimeout = 20 * time.Second
	stopTimeout    = 10 * time.Second
)

// roles are the shop's services, callees first: each caller is started
// with its callees' addresses. team is what the ownership file says.
var roles = []struct{ name, team string }{
	{"payment", "payments"},
	{"cart", "checkout"},
	{"catalog", "discovery"},
	{"edge", "edge"},
}

// checkouts are the requests a run sends to the edge, in order.
var checkouts = []struct{ user, tier string }{
	{"ada", "gold"},
	{"declined", "basic"},
}

// proc is one running service.
type proc struct {
	role string
	cmd  *exec.Cmd
	addr string

	mu     sync.Mutex
	stderr bytes.Buffer // bounded by logLimit

	done    chan struct{}
	waitErr error
	// stopped: exited after SIGTERM within stopTimeout; killed: it did not.
	stopped, killed bool
}

const logLimit = 1 << 20

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stderr.Len()+len(b) <= logLimit {
		p.stderr.Write(b)
	}
	return len(b), nil
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// logRecords are the JSON lines of the service's stderr (slog's JSON
// handler), in order.
func (p *proc) logRecords() []map[string]any {
	var recs []map[string]any
	for line := range strings.SplitSeq(p.log(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			recs = append(recs, m)
		}
	}
	return recs
}

// tail is the last lines of the service's stderr, for error messages.
func (p *proc) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  [" + p.role + "] " + strings.Join(lines, "\n  ["+p.role+"] ")
}

// shopRun is what one run of the shop left behind.
type shopRun struct {
	procs   map[string]*proc
	spans   []tracetest.Span
	rcv     *tracetest.Receiver
	replies []int // HTTP status per checkout
	env     map[string]string
}

// buildShop builds the shop in dir into a temporary directory.
func buildShop(ctx context.Context, dir, tmp string) (string, error) {
	bin := filepath.Join(tmp, "shop")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./"+filepath.Clean(dir))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", &notYet{msg: fmt.Sprintf("the shop in %s does not build:\n%s", dir, out)}
	}
	return bin, nil
}

// runShop starts the shop's services from bin, sends the checkouts, waits
// for the payment service to consume them and stops every service with
// SIGTERM. It returns with every process gone, the broker and the
// receiver closed, whatever happened.
func runShop(ctx context.Context, bin string, extraEnv map[string]string) (_ *shopRun, err error) {
	rcv, err := tracetest.NewReceiver()
	if err != nil {
		return nil, err
	}
	defer rcv.Close()
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
		kfake.SeedTopics(1, shopkit.OrdersTopic))
	if err != nil {
		return nil, fmt.Errorf("starting the Kafka broker: %w", err)
	}
	defer broker.Close()

	r := &shopRun{procs: map[string]*proc{}, rcv: rcv, env: map[string]string{
		shopkit.EnvBrokers: broker.ListenAddrs()[0],
		// The endpoint of the embedded receiver, and a batch delay longer
		// than a run: spans reach the receiver only if the service shuts
		// its tracer down (step 1).
		"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.GRPCEndpoint(),
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_BSP_SCHEDULE_DELAY":     "60000",
	}}
	for k, v := range extraEnv {
		r.env[k] = v
	}
	var started []*proc
	defer func() {
		if serr := stopAll(started); err == nil {
			err = serr
		}
		// Every service has exited: what they flushed has arrived.
		r.spans = rcv.Spans()
	}()
	for _, role := range roles {
		p, err := startProc(ctx, bin, role.name, role.team, r.env)
		if p != nil {
			started = append(started, p)
			r.procs[role.name] = p
		}
		if err != nil {
			return r, err
		}
		r.env["SHOP_"+strings.ToUpper(role.name)+"_ADDR"] = p.addr
	}

	client := &http.Client{Timeout: requestTimeout}
	edge := "http://" + r.procs["edge"].addr
	for _, c := range checkouts {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, edge+"/checkout?user="+c.user+"&tier="+c.tier, nil)
		if err != nil {
			return r, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return r, &notYet{msg: fmt.Sprintf("POST /checkout?user=%s failed: %v\n%s", c.user, err, r.procs["edge"].tail(10))}
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		r.replies = append(r.replies, resp.StatusCode)
		if resp.StatusCode != http.StatusOK {
			return r, &notYet{msg: fmt.Sprintf("POST /checkout?user=%s answered %s: %s\nthe services' last log lines:\n%s\n%s\n%s",
				c.user, resp.Status, strings.TrimSpace(string(body)), r.procs["edge"].tail(5), r.procs["catalog"].tail(5), r.procs["cart"].tail(5))}
		}
	}

	// The payment service logs one line per order it charged.
	deadline := time.Now().Add(consumeTimeout)
	for {
		n := 0
		for _, rec := range r.procs["payment"].logRecords() {
			if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, "payment ") {
				n++
			}
		}
		if n >= len(checkouts) {
			break
		}
		if time.Now().After(deadline) {
			return r, &notYet{msg: fmt.Sprintf("the payment service charged %d of the %d orders within %s: is it still consuming the %q topic?\n%s",
				n, len(checkouts), consumeTimeout, shopkit.OrdersTopic, r.procs["payment"].tail(10))}
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return r, nil
}

// startProc starts one service and waits for its "ready ADDR" line.
func startProc(ctx context.Context, bin, role, team string, env map[string]string) (*proc, error) {
	p := &proc{role: role, done: make(chan struct{})}
	p.cmd = exec.Command(bin)
	for _, kv := range os.Environ() {
		// The learner's shell must not change what the checker sees.
		if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "FLOWTRACE_") && !strings.HasPrefix(kv, "SHOP_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, shopkit.EnvRole+"="+role, "OTEL_SERVICE_NAME="+role,
		"OTEL_RESOURCE_ATTRIBUTES=team="+team+",deployment.environment=workshop")
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s: %w", role, err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				select {
				case ready <- addr:
				default:
				}
			}
		}
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	select {
	case p.addr = <-ready:
		return p, nil
	case <-p.done:
		return p, &notYet{msg: fmt.Sprintf("the %s exited before it printed \"ready\" (%v):\n%s", role, p.waitErr, p.tail(10))}
	case <-time.After(startTimeout):
		return p, &notYet{msg: fmt.Sprintf("the %s did not print \"ready\" within %s:\n%s", role, startTimeout, p.tail(10))}
	case <-ctx.Done():
		return p, ctx.Err()
	}
}

// stopAll sends SIGTERM to every service, callers first, and waits for
// each to exit; one that does not within stopTimeout is killed. Every
// process is gone when it returns.
func stopAll(procs []*proc) error {
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		select {
		case <-p.done:
			continue // it already exited
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			p.stopped = true
		case <-time.After(stopTimeout):
			p.killed = true
			_ = p.cmd.Process.Kill()
			<-p.done
			errs = append(errs, &notYet{step: 1, msg: fmt.Sprintf("the %s did not exit within %s of SIGTERM and was killed: does main return once ctx is done, and does Shutdown get a context with a timeout?\n%s", p.role, stopTimeout, p.tail(10))})
		}
	}
	return errors.Join(errs...)
}
