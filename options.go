package flowtrace

import (
	"context"
	"errors"
	"log/slog"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/tracer"
)

// Option configures [Start]. It is config.Option, so that every
// configuration option (the settings the environment can also give) is
// one and a program keeps passing them, alone or as a []config.Option;
// the options of this package are the others: the parts of the pipeline
// only a program can give, as Go values (a sampler, a span processor, an
// exporter, a logger), and whether Start installs the globals.
//
// The options of this package are extensions to config.Load (see
// config.Extension): Load ignores them, so they take effect only when
// given to Start.
type Option = config.Option

// pipeline is what the options of this package set.
type pipeline struct {
	sampler    tracer.Sampler
	processors []tracer.SpanProcessor
	exporter   export.Exporter
	logger     *slog.Logger
	noGlobals  bool
}

type pipelineOption func(*pipeline)

func option(f pipelineOption) Option { return config.Extension(f) }

// pipelineOf collects the options of this package among opts.
func pipelineOf(opts []Option) pipeline {
	var p pipeline
	for _, v := range config.Extensions(opts) {
		switch o := v.(type) {
		case pipelineOption:
			o(&p)
		case interface{ GlobalTracer() bool }: // the deprecated config.WithoutGlobalTracer
			p.noGlobals = p.noGlobals || !o.GlobalTracer()
		}
	}
	return p
}

// WithSampler makes s the tracer's sampler in place of the one
// OTEL_TRACES_SAMPLER (or config.WithSampler) names; the operation rate
// limit (FLOWTRACE_SAMPLER_OPERATION_RATE) is not applied to it. The
// start-up line names it by its Description. A disabled SDK
// (OTEL_SDK_DISABLED) ignores it. A nil s does nothing.
func WithSampler(s tracer.Sampler) Option {
	return option(func(p *pipeline) {
		if s != nil {
			p.sampler = s
		}
	})
}

// WithSpanProcessor adds sp after the export pipeline: it receives every
// sampled span that finishes, in the order the processors were given,
// after the exporter's batcher, and the Tracing's ForceFlush and Shutdown
// call its own. Its OnEnd runs on the goroutine that finished the span:
// it must not block, and, as the exporter receives the same span data, it
// must treat the data as read-only. Spans are recorded for it even when
// there is no exporter (OTEL_TRACES_EXPORTER=none); a disabled SDK never
// calls it. tracetest.Recorder is one. A nil sp does nothing.
func WithSpanProcessor(sp tracer.SpanProcessor) Option {
	return option(func(p *pipeline) {
		if sp != nil {
			p.processors = append(p.processors, sp)
		}
	})
}

// WithSpanExporter makes e the exporter in place of the one
// OTEL_TRACES_EXPORTER names (even "none"), behind the export batcher and
// its OTEL_BSP_* settings, so that Stats().Export counts it. Shutdown
// calls its Shutdown. A disabled SDK ignores it. A nil e does nothing.
func WithSpanExporter(e export.Exporter) Option {
	return option(func(p *pipeline) {
		if e != nil {
			p.exporter = e
		}
	})
}

// WithLogger sends what the SDK says about itself to l's handler instead
// of standard error. The lines are still filtered by OTEL_LOG_LEVEL,
// escaped, bounded, rate-limited and scrubbed of secrets before l sees
// them; each record has the attribute component=flowtrace. The
// OpenTelemetry error handler and logger Start installs write through it
// too. A nil l does nothing.
func WithLogger(l *slog.Logger) Option {
	return option(func(p *pipeline) {
		if l != nil {
			p.logger = l
		}
	})
}

// WithoutGlobalTracer keeps the tracer out of the OpenTracing global
// tracer and the OpenTelemetry global tracer provider and propagator; see
// [Start] for the globals. Tracing.Tracer and Tracing.TracerProvider give
// them to the program either way.
func WithoutGlobalTracer() Option {
	return option(func(p *pipeline) { p.noGlobals = true })
}

// processors is the fan-out behind the tracer when a program adds span
// processors: the tracer has one processor, by design (its hot path calls
// one interface method).
type processors []tracer.SpanProcessor

func (ps processors) OnEnd(s *tracer.SpanData) {
	for _, p := range ps {
		p.OnEnd(s)
	}
}

func (ps processors) ForceFlush(ctx context.Context) error {
	var err error
	for _, p := range ps {
		err = errors.Join(err, p.ForceFlush(ctx))
	}
	return err
}

func (ps processors) Shutdown(ctx context.Context) error {
	var err error
	for _, p := range ps {
		err = errors.Join(err, p.Shutdown(ctx))
	}
	return err
}
