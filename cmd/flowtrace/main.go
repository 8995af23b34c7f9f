// Command flowtrace analyses trace data: service dependency diagrams,
// golden signals, SLOs, triage and traffic estimates. Run `flowtrace help`.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Exit codes.
const (
	exitOK     = 0
	exitError  = 1 // the input could not be read or the output written
	exitUsage  = 2 // bad flags or arguments
	exitAlerts = 3 // slo --check: an alert fires
)

// command is one subcommand. Adding a subcommand is one file that calls
// register from an init function.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("flowtrace: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand; tests call it in-process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"-h"}, stdout, stderr)
			}
		}
		usage(stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "flowtrace: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: flowtrace <command> [flags] [trace files...]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-9s %s\n", n, commands[n].summary)
	}
	b.WriteString(`
Trace data comes from OTLP files (JSON Lines as the console exporter and the
shop demo write them, or one protobuf ExportTraceServiceRequest per file;
gzip allowed) or from Jaeger's query API (--jaeger URL [--service NAME]).

Run 'flowtrace help <command>' for a command's flags.
Exit codes: 0 ok, 1 error, 2 usage, 3 slo --check found a firing alert.
`)
	io.WriteString(w, b.String())
}
