// Command cmd writes a large synthetic OTLP/JSON span file (package
// scalegen) for the analysis tools' scale measurements.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/flowtrace/flowtrace/internal/scalegen"
)

func main() {
	spans := flag.Int("spans", 1_000_000, "about how many spans to write")
	out := flag.String("out", "", "output `file` (required)")
	concurrent := flag.Int("concurrent", 64, "traces in flight at once (interleaved in the file)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: scalegen -out FILE [-spans N]")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st, err := scalegen.Write(f, scalegen.Config{Spans: *spans, Concurrent: *concurrent, Seed: *seed})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d spans in %d traces, %d bytes\n", st.Spans, st.Traces, st.Bytes)
}
