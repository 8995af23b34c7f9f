package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.uber.org/goleak"

	"github.com/flowtrace/flowtrace/tracetest"
)

// receiverEnv makes the test binary run an OTLP receiver instead of the
// benchmarks: BenchmarkExport re-executes itself with it so that the
// receiver's CPU time is not charged to the exporting process.
const receiverEnv = "FLOWTRACE_BENCH_RECEIVER"

func TestMain(m *testing.M) {
	if os.Getenv(receiverEnv) == "1" {
		os.Exit(serveReceiver(os.Stdin, os.Stdout))
	}
	// Exporters pointed at the blackhole log every failed export.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	goleak.VerifyTestMain(m,
		// jaeger-client-go's and the OTel SDK's process-wide helpers.
		goleak.IgnoreAnyFunction("go.opencensus.io/stats/view.(*worker).start"),
	)
}

// serveReceiver runs tracetest.NewReceiver, prints its gRPC endpoint, then
// answers line commands on in: "count" prints the spans received so far,
// "reset" forgets them. It returns when in is closed.
func serveReceiver(in io.Reader, out io.Writer) int {
	// Keep one span: the rest are acknowledged and only counted.
	rcv, err := tracetest.NewReceiver(tracetest.WithMaxSpans(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer rcv.Close()
	fmt.Fprintln(out, rcv.GRPCEndpoint())
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "count":
			fmt.Fprintln(out, int64(rcv.SpanCount())+rcv.DroppedSpans())
		case "reset":
			rcv.Reset()
			fmt.Fprintln(out, "ok")
		}
	}
	return 0
}

// remoteReceiver is the receiver running in a child process.
type remoteReceiver struct {
	cmd      *exec.Cmd
	in       io.WriteCloser
	out      *bufio.Scanner
	endpoint string
}

func startRemoteReceiver(tb testing.TB) *remoteReceiver {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), receiverEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	r := &remoteReceiver{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	if !r.out.Scan() {
		_ = r.close()
		tb.Fatal("receiver process did not start")
	}
	r.endpoint = r.out.Text()
	return r
}

func (r *remoteReceiver) ask(tb testing.TB, cmd string) string {
	tb.Helper()
	if _, err := fmt.Fprintln(r.in, cmd); err != nil {
		tb.Fatal(err)
	}
	if !r.out.Scan() {
		tb.Fatal("receiver process exited")
	}
	return r.out.Text()
}

func (r *remoteReceiver) count(tb testing.TB) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(r.ask(tb, "count")), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func (r *remoteReceiver) close() error {
	_ = r.in.Close()
	return r.cmd.Wait()
}
