package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// errUsage marks errors that are the user's flags or arguments.
var errUsage = errors.New("usage")

// inputFlags are the flags every analysis command shares, and what the
// command has to say about its input (see policyHelp).
type inputFlags struct {
	jaeger, service  string
	limit, maxTraces int
	start, end       string
	lookback         time.Duration
	timeout          time.Duration
	maxBytes         int64
	quiet            bool
	exclude          string
	includeLoadTests bool
	window           int

	name   string    // the command, for messages
	stderr io.Writer // where warnings go
	notes  notes
}

// policyHelp is the one policy every analysis command follows; each
// command's --help ends with it.
const policyHelp = `
Policy shared by deps, red, slo, triage and estimate:
  - counts, rates, ratios and percentiles are weighted by
    1/sampling.probability (a span sampled at 0.25 stands for 4);
  - traces whose traffic_source is load-test are left out unless
    --include-load-test; --exclude-traffic names the sources to leave out;
  - an input without spans (an empty file, JSON that is not OTLP trace data)
    is an error (exit 1), not an empty report;
  - warnings (a partial Jaeger result, rates over a window shorter than 1m)
    go to stderr even with --quiet and, with --format json, into an "input"
    member of the output: {"input": {"partial": true, "warnings": [...]}}.`

// notes is what a command says about its input besides its result.
type notes struct {
	Partial  bool     `json:"partial,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func (n notes) empty() bool { return !n.Partial && len(n.Warnings) == 0 }

func (in *inputFlags) add(fs *flag.FlagSet) {
	in.name, in.stderr = fs.Name(), fs.Output()
	fs.StringVar(&in.jaeger, "jaeger", "", "read from the Jaeger query API at `URL` (e.g. http://127.0.0.1:16686) instead of files")
	fs.StringVar(&in.service, "service", "", "with --jaeger: fetch the traces that have a span of this `service` (traces that never touch it are missed; default: every service Jaeger knows, each trace once)")
	fs.IntVar(&in.limit, "limit", 500, "with --jaeger: traces per request; a window that returns this many is split in two and fetched again, until complete")
	fs.IntVar(&in.maxTraces, "max-traces", source.DefaultMaxTraces, "with --jaeger: stop at this many traces (newest first); the result is then marked partial")
	fs.StringVar(&in.start, "start", "", "with --jaeger: window start, RFC 3339 `time` (default: --end minus --lookback)")
	fs.StringVar(&in.end, "end", "", "with --jaeger or --prometheus: window end, RFC 3339 `time` (default: now)")
	fs.DurationVar(&in.lookback, "lookback", time.Hour, "with --jaeger: window length when --start is not given; with --prometheus: the window")
	fs.DurationVar(&in.timeout, "timeout", 30*time.Second, "with --jaeger or --prometheus: timeout per request")
	fs.Int64Var(&in.maxBytes, "max-bytes", 256<<20, "with --jaeger or --prometheus: maximum response size in bytes")
	fs.BoolVar(&in.quiet, "quiet", false, "no progress on stderr (warnings are still printed)")
	fs.StringVar(&in.exclude, "exclude-traffic", "load-test", "leave out traces whose traffic_source is in this comma-separated `list`")
	fs.BoolVar(&in.includeLoadTests, "include-load-test", false, "keep traffic_source=load-test traces even if --exclude-traffic lists them")
	fs.IntVar(&in.window, "window", trace.DefaultWindow, "files are read as a stream: a trace is complete once this many `spans` of other traces follow its last one (memory grows with it)")
}

// partial marks the input as incomplete, with the reason as a warning.
func (in *inputFlags) partial(format string, a ...any) {
	in.notes.Partial = true
	in.warn("partial input: "+format, a...)
}

// warn prints a warning on stderr (even with --quiet) and keeps it for the
// JSON output.
func (in *inputFlags) warn(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	in.notes.Warnings = append(in.notes.Warnings, msg)
	fmt.Fprintf(in.stderr, "flowtrace %s: warning: %s\n", in.name, msg)
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// load reads the traces the flags and files name.
func (in *inputFlags) load(ctx context.Context, files []string, stderr io.Writer) ([]*trace.Trace, error) {
	if in.jaeger == "" && len(files) == 0 {
		return nil, fmt.Errorf("%w: name trace files, or --jaeger URL", errUsage)
	}
	if in.jaeger != "" && len(files) > 0 {
		return nil, fmt.Errorf("%w: give trace files or --jaeger, not both", errUsage)
	}
	progress := func(format string, a ...any) {
		if !in.quiet {
			fmt.Fprintf(stderr, "flowtrace: "+format+"\n", a...)
		}
	}
	var spans []*trace.Span
	if in.jaeger != "" {
		j, err := source.NewJaeger(in.jaeger, source.WithTimeout(in.timeout), source.WithMaxResponseBytes(in.maxBytes))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		q := source.Query{Service: in.service, Limit: in.limit, Lookback: in.lookback, MaxTraces: in.maxTraces}
		for _, f := range []struct {
			name, v string
			t       *time.Time
		}{{"--start", in.start, &q.Start}, {"--end", in.end, &q.End}} {
			if f.v == "" {
				continue
			}
			if *f.t, err = time.Parse(time.RFC3339Nano, f.v); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", errUsage, f.name, err)
			}
		}
		r, err := j.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		progress("jaeger: %d traces, %d spans in %d requests, %s .. %s", r.Traces, len(r.Spans), r.Requests,
			r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339))
		if r.Partial {
			in.partial("jaeger: %s", r.Reason)
		}
		spans = r.Spans
	} else {
		for _, f := range files {
			got, err := source.ReadFile(f, source.WithProgress(func(p source.Progress) {
				if !p.Done {
					progress("%s: %d MiB read, %d spans", p.Name, p.Bytes>>20, p.Spans)
				}
			}, 16<<20))
			if err != nil {
				return nil, err
			}
			if len(got) == 0 {
				return nil, fmt.Errorf("%s: no spans: the file is empty or not OTLP trace data (want ExportTraceServiceRequest JSON lines with resourceSpans, or one protobuf request)", f)
			}
			spans = append(spans, got...)
		}
	}
	if len(spans) == 0 {
		return nil, fmt.Errorf("no spans to analyse from %s (service %q; the window is --start/--end, or --lookback back from now)", in.jaeger, in.service)
	}
	traces := trace.Assemble(spans)
	var exclude []string
	for _, s := range strings.Split(in.exclude, ",") {
		if s = strings.TrimSpace(s); s != "" && !(in.includeLoadTests && s == "load-test") {
			exclude = append(exclude, s)
		}
	}
	kept := trace.ExcludeTraffic(traces, exclude...)
	if len(exclude) > 0 {
		progress("%d spans in %d traces (%d traces with traffic_source %s left out)", len(spans), len(kept), len(traces)-len(kept), strings.Join(exclude, ","))
	} else {
		progress("%d spans in %d traces", len(spans), len(kept))
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("all %d traces have traffic_source %s, which is left out (see --include-load-test and --exclude-traffic)", len(traces), strings.Join(exclude, " or "))
	}
	return kept, nil
}

// newFlagSet returns a flag set whose usage names the command.
func newFlagSet(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: flowtrace %s %s\n\n%s\n\nflags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs
}

// fail prints err and returns the matching exit code.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "flowtrace %s: %v\n", name, err)
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	return exitError
}

// parseArgs parses flags; it returns ok=false and the exit code when the
// command should stop (help asked, or bad flags).
func parseArgs(fs *flag.FlagSet, args []string) (files []string, code int, ok bool) {
	files, err := parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, exitOK, false
	}
	if err != nil {
		return nil, exitUsage, false
	}
	return files, 0, true
}
