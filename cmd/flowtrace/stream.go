package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/stream"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// excluded returns the traffic sources --exclude-traffic leaves out.
func (in *inputFlags) excluded() []string {
	var exclude []string
	for _, s := range strings.Split(in.exclude, ",") {
		if s = strings.TrimSpace(s); s != "" && !(in.includeLoadTests && s == "load-test") {
			exclude = append(exclude, s)
		}
	}
	return exclude
}

// each streams the traces the flags and files name to emit, one at a time
// (package analysis/stream): files are never held whole. index, when not
// nil, is fed every span for following links. Jaeger results, already
// bounded by --max-traces (and paged until complete or marked partial),
// go through the same steps.
func (in *inputFlags) each(ctx context.Context, files []string, stderr io.Writer, index *trace.SpanIndex, emit func(*trace.Trace)) error {
	if in.jaeger != "" {
		traces, err := in.load(ctx, files, stderr)
		if err != nil {
			return err
		}
		for _, t := range traces {
			if index != nil {
				for _, s := range t.Spans {
					index.Add(s)
				}
			}
		}
		for _, t := range traces {
			emit(t)
		}
		return nil
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: name trace files, or --jaeger URL", errUsage)
	}
	progress := func(format string, a ...any) {
		if !in.quiet {
			fmt.Fprintf(stderr, "flowtrace: "+format+"\n", a...)
		}
	}
	exclude := in.excluded()
	cfg := stream.Config{Window: in.window, Index: index, Steps: []trace.Step{trace.ExcludeTrafficStep(exclude...)},
		Source: []source.Option{source.WithProgress(func(p source.Progress) {
			if !p.Done {
				progress("%s: %d MiB read, %d spans", p.Name, p.Bytes>>20, p.Spans)
			}
		}, 64<<20)}}
	sum, err := stream.Files(files, cfg, emit)
	if err != nil {
		return err
	}
	for i, n := range sum.FileSpans {
		if n == 0 {
			return fmt.Errorf("%s: no spans: the file is empty or not OTLP trace data (want ExportTraceServiceRequest JSON lines with resourceSpans, or one protobuf request)", files[i])
		}
	}
	if len(exclude) > 0 {
		progress("%d spans in %d traces (%d traces with traffic_source %s left out)", sum.Spans, sum.Kept, sum.Traces-sum.Kept, strings.Join(exclude, ","))
	} else {
		progress("%d spans in %d traces", sum.Spans, sum.Kept)
	}
	if sum.Kept == 0 {
		return fmt.Errorf("all %d traces have traffic_source %s, which is left out (see --include-load-test and --exclude-traffic)", sum.Traces, strings.Join(exclude, " or "))
	}
	if sum.Split > 0 {
		// The figures are off where traces were cut: say so even with --quiet.
		in.warn("%d traces came in pieces (spans further apart in the input than --window %d spans, or more than %d spans held at once): each piece was counted as a trace; raise --window",
			sum.Split, windowOf(in.window), 2*windowOf(in.window))
	}
	return nil
}

// memoryLimit is the Go runtime's soft memory limit for the tools when
// neither GOGC nor GOMEMLIMIT is set. Streaming keeps the live heap near
// 100 MB whatever the input; with the default GOGC the collector would run
// at every doubling of it and take a third of the time. Letting the heap
// grow to this limit instead collects far less often and still keeps the
// process under 256 MB.
const memoryLimit = 200 << 20

func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(memoryLimit)
}

func windowOf(w int) int {
	if w <= 0 {
		return trace.DefaultWindow
	}
	return w
}
