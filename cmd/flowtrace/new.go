package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/templates"
)

func init() {
	register(command{name: "new", summary: "create a new service with tracing built in", run: runNew})
}

func runNew(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("new", "[flags] NAME",
		"Creates a service called NAME (a DNS-1035 label: checkout, order-history) in\n"+
			"./NAME or --dir: main.go with flowtrace.Start and graceful shutdown, a traced\n"+
			"HTTP server and client, optionally a traced gRPC server and Kafka consumer,\n"+
			"a test, a Dockerfile, a Kubernetes manifest with the downward-API environment\n"+
			"flowtrace configures itself from, and a README. It refuses a directory that\n"+
			"is not empty, and a default ./NAME inside a flowtrace checkout (say --dir).\n\n"+
			"flowtrace is not published yet: go.mod requires it at "+templates.PlaceholderVersion+";\n"+
			"--workspace writes a go.work that resolves it from a local clone; --replace\n"+
			"points go.mod at the clone instead and runs go mod tidy, so that the service\n"+
			"builds on its own (GOWORK=off go build).", stderr)
	module := fs.String("module", "", "module `path` of the new service (default: NAME)")
	withGRPC := fs.Bool("grpc", false, "add a traced gRPC server (with the gRPC health service)")
	withKafka := fs.Bool("kafka", false, "add a traced Kafka consumer (brokers from KAFKA_BROKERS)")
	dir := fs.String("dir", "", "`directory` to create the service in (default: ./NAME)")
	workspace := fs.String("workspace", "", "write a go.work that uses the flowtrace clone in `DIR`")
	replace := fs.String("replace", "", "replace flowtrace in go.mod by the clone in `DIR` and run go mod tidy")
	version := fs.String("flowtrace-version", "", "require flowtrace at this `version` (default: "+templates.PlaceholderVersion+")")
	names, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(names) != 1 {
		return fail(stderr, "new", fmt.Errorf("%w: give exactly one service NAME (got %d arguments)", errUsage, len(names)))
	}
	name := names[0]
	if *workspace != "" && *replace != "" {
		return fail(stderr, "new", fmt.Errorf("%w: --workspace and --replace are two ways to the same clone: give one", errUsage))
	}
	if *dir == "" {
		// Run as `go run ./cmd/flowtrace new NAME` from a checkout, the
		// default would write the service into flowtrace's own tree.
		if root, ok := flowtraceCheckoutAbove("."); ok {
			return fail(stderr, "new", fmt.Errorf("%w: the current directory is inside the flowtrace checkout %s: say where the service goes with --dir (e.g. --dir ../%s)", errUsage, root, name))
		}
		*dir = name
	}
	opts := []templates.Option{templates.WithModule(*module), templates.WithFlowtraceVersion(*version)}
	if *withGRPC {
		opts = append(opts, templates.WithGRPC())
	}
	if *withKafka {
		opts = append(opts, templates.WithKafka())
	}
	if *workspace != "" {
		opts = append(opts, templates.WithWorkspace(*workspace))
	}
	if *replace != "" {
		opts = append(opts, templates.WithReplace(*replace))
	}
	// Invalid input is a usage error; Render checks it without writing.
	files, err := templates.Render(name, opts...)
	if err != nil {
		return fail(stderr, "new", fmt.Errorf("%w: %v", errUsage, err))
	}
	if err := templates.Generate(*dir, name, opts...); err != nil {
		if errors.Is(err, templates.ErrNotEmpty) {
			err = fmt.Errorf("%w; choose another --dir or NAME", err)
		}
		return fail(stderr, "new", err)
	}
	fmt.Fprintf(stdout, "created %s in %s:\n", name, *dir)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", filepath.FromSlash(f.Path))
	}
	if *replace != "" {
		if err := tidy(*dir); err != nil {
			fmt.Fprintf(stderr, "flowtrace new: go mod tidy did not complete go.mod (%v); run it in %s\n", err, *dir)
		} else {
			fmt.Fprintf(stdout, "  go.mod and go.sum completed by go mod tidy\n")
		}
	}
	fmt.Fprintf(stdout, "\nnext:\n  cd %s\n", *dir)
	if *workspace == "" && *replace == "" && (*version == "" || *version == templates.PlaceholderVersion) {
		fmt.Fprintf(stdout, "  # flowtrace is unpublished: resolve it from a local clone (see README.md)\n"+
			"  go work init . /path/to/flowtrace\n"+
			"  go work edit -replace=github.com/flowtrace/flowtrace@%s=/path/to/flowtrace\n", templates.PlaceholderVersion)
	}
	fmt.Fprintf(stdout, "  go test ./...\n  go run .\n")
	return exitOK
}

// flowtraceCheckoutAbove reports the root of the flowtrace checkout that
// holds dir, if any.
func flowtraceCheckoutAbove(dir string) (string, bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	for {
		f, err := os.Open(filepath.Join(abs, "go.mod"))
		if err == nil {
			head := make([]byte, 64)
			n, _ := io.ReadFull(f, head)
			_ = f.Close()
			if bytes.HasPrefix(head[:n], []byte("module github.com/flowtrace/flowtrace\n")) {
				return abs, true
			}
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", false
		}
		abs = parent
	}
}

// tidyTimeout bounds go mod tidy; with the checksums in go.sum and the
// modules in the cache it takes a second or two.
const tidyTimeout = 2 * time.Minute

// tidy runs go mod tidy in dir on its own module (no workspace), so that
// go.mod lists the indirect requirements a read-only build needs.
func tidy(dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("no go command on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), tidyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "mod", "tidy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 512 {
			msg = msg[:512] + "..."
		}
		return fmt.Errorf("%v: %s", err, msg)
	}
	return nil
}
