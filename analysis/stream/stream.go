package stream

import (
	"github.com/flowtrace/flowtrace/analysis/source"
	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Config says how to stream. The zero value uses the defaults.
type Config struct {
	// Window and MaxHeld configure the assembler ([trace.WithWindow],
	// [trace.WithMaxHeld]); 0 means the default.
	Window, MaxHeld int
	// Index, when not nil, is fed every span as it is read, before its
	// trace is complete, so tools can follow links across traces.
	Index *trace.SpanIndex
	// Steps run on each assembled trace before emit; a step returning nil
	// drops the trace.
	Steps []trace.Step
	// Source options for reading files (progress, formats, limits).
	Source []source.Option
}

// Summary says what a stream read.
type Summary struct {
	trace.AssemblyStats
	// Kept is the number of traces the steps passed on.
	Kept int
	// FileSpans is the number of spans read from each file, in order.
	FileSpans []int
}

type run struct {
	cfg  Config
	asm  *trace.Assembler
	kept int
}

func start(cfg Config, emit func(*trace.Trace)) *run {
	r := &run{cfg: cfg}
	counted := func(t *trace.Trace) {
		r.kept++
		emit(t)
	}
	r.asm = trace.NewAssembler(trace.Chain(counted, cfg.Steps...), trace.WithWindow(cfg.Window), trace.WithMaxHeld(cfg.MaxHeld))
	return r
}

func (r *run) add(spans []*trace.Span) {
	for _, s := range spans {
		if r.cfg.Index != nil {
			r.cfg.Index.Add(s)
		}
		r.asm.Add(s)
	}
}

func (r *run) close() Summary {
	r.asm.Close()
	return Summary{AssemblyStats: r.asm.Stats(), Kept: r.kept}
}

// Files streams the trace files in order, as one input, and calls emit
// with each trace the steps keep. On a read error it stops; the traces
// emitted until then have been passed on.
func Files(files []string, cfg Config, emit func(*trace.Trace)) (Summary, error) {
	r := start(cfg, emit)
	counts := make([]int, 0, len(files))
	for _, f := range files {
		n := 0
		err := source.StreamFile(f, func(spans []*trace.Span) error {
			n += len(spans)
			r.add(spans)
			return nil
		}, cfg.Source...)
		counts = append(counts, n)
		if err != nil {
			sum := r.close()
			sum.FileSpans = counts
			return sum, err
		}
	}
	sum := r.close()
	sum.FileSpans = counts
	return sum, nil
}

// Spans streams spans already in memory (a Jaeger query result) the same
// way.
func Spans(spans []*trace.Span, cfg Config, emit func(*trace.Trace)) Summary {
	r := start(cfg, emit)
	r.add(spans)
	return r.close()
}

// Fanout returns an emit function that passes each trace to every sink.
func Fanout(sinks ...func(*trace.Trace)) func(*trace.Trace) {
	return func(t *trace.Trace) {
		for _, s := range sinks {
			s(t)
		}
	}
}
