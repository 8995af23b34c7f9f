package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

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
			"is not empty.\n\n"+
			"flowtrace is not published yet: go.mod requires it at "+templates.PlaceholderVersion+";\n"+
			"--workspace writes a go.work that resolves it from a local clone.", stderr)
	module := fs.String("module", "", "module `path` of the new service (default: NAME)")
	withGRPC := fs.Bool("grpc", false, "add a traced gRPC server (with the gRPC health service)")
	withKafka := fs.Bool("kafka", false, "add a traced Kafka consumer (brokers from KAFKA_BROKERS)")
	dir := fs.String("dir", "", "`directory` to create the service in (default: ./NAME)")
	workspace := fs.String("workspace", "", "write a go.work that uses the flowtrace clone in `DIR`")
	version := fs.String("flowtrace-version", "", "require flowtrace at this `version` (default: "+templates.PlaceholderVersion+")")
	names, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(names) != 1 {
		return fail(stderr, "new", fmt.Errorf("%w: give exactly one service NAME (got %d arguments)", errUsage, len(names)))
	}
	name := names[0]
	if *dir == "" {
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
	fmt.Fprintf(stdout, "\nnext:\n  cd %s\n", *dir)
	if *workspace == "" && (*version == "" || *version == templates.PlaceholderVersion) {
		fmt.Fprintf(stdout, "  # flowtrace is unpublished: resolve it from a local clone (see README.md)\n"+
			"  go work init . /path/to/flowtrace\n"+
			"  go work edit -replace=github.com/flowtrace/flowtrace@%s=/path/to/flowtrace\n", templates.PlaceholderVersion)
	}
	fmt.Fprintf(stdout, "  go test ./...\n  go run .\n")
	return exitOK
}
