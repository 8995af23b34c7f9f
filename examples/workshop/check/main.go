// Command check runs one step's checker of the workshop: it builds the
// shop (./shop, or -dir), starts its four services as processes on
// 127.0.0.1 against an embedded Kafka broker (kfake, the real wire
// protocol) and an embedded OTLP receiver, sends two checkouts, stops
// every service with SIGTERM as Kubernetes would, and then looks at the
// spans and logs the services produced. It fails with a message saying
// what is missing and where to look, until the step is done.
//
//	go run ./check 3              # check step 3 against ./shop
//	go run ./check -dir solutions/step3 3
//
// A step's checker also re-checks the earlier steps, so a later change
// that breaks an earlier lesson is caught too. Exit status: 0 passed, 1 not
// yet (or the shop did not build or start), 2 usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// options are the checker's flags.
type options struct {
	step int
	// dir is the shop to check, a package directory of this module.
	dir string
	// bin is a prebuilt shop binary (CI builds each state once); it
	// replaces building dir, whose files step 8 still reads.
	bin string
	// out is where the run's spans are written (OTLP JSON lines) for the
	// flowtrace tools; "" writes none.
	out string
	// semconvcheck runs the tag analyzer: a binary, or "" for
	// `go tool semconvcheck`.
	semconvcheck string
}

func main() {
	var opts options
	flag.StringVar(&opts.dir, "dir", "shop", "the shop `directory` to check")
	flag.StringVar(&opts.bin, "bin", "", "a prebuilt shop `binary` (default: go build -dir)")
	flag.StringVar(&opts.out, "out", "workshop-spans.jsonl", "write the run's spans to `file` for the flowtrace tools (\"\": none)")
	flag.StringVar(&opts.semconvcheck, "semconvcheck", "", "a semconvcheck `binary` (default: go tool semconvcheck)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./check [flags] STEP  (STEP 1 to %d)\n", len(steps))
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	n, err := strconv.Atoi(flag.Arg(0))
	if err != nil || n < 1 || n > len(steps) {
		flag.Usage()
		os.Exit(2)
	}
	opts.step = n
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, opts, os.Stdout)
	stop()
	os.Exit(report(os.Stdout, n, err))
}

// report prints the verdict and returns the exit status.
func report(w io.Writer, n int, err error) int {
	var nyet *notYet
	switch {
	case err == nil:
		fmt.Fprintf(w, "\nstep %d (%s): PASSED\n", n, steps[n-1].title)
		if n < len(steps) {
			fmt.Fprintf(w, "next: step %d, %s (README.md)\n", n+1, steps[n].title)
		} else {
			fmt.Fprintln(w, "that was the last step: well done.")
		}
		return 0
	case errors.As(err, &nyet):
		fmt.Fprintf(w, "\nstep %d (%s): NOT YET\n", n, steps[n-1].title)
		if nyet.step != n {
			fmt.Fprintf(w, "(an earlier step no longer passes: step %d, %s)\n", nyet.step, steps[nyet.step-1].title)
		}
		fmt.Fprintf(w, "\n%s\n", nyet.msg)
		return 1
	default:
		fmt.Fprintf(w, "\nstep %d (%s): could not run the shop: %v\n", n, steps[n-1].title, err)
		return 1
	}
}
