package flowtrace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/internal/safefile"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// stderr is where Start reports; tests replace it.
var stderr io.Writer = os.Stderr

// Tracing is a started SDK: the tracer plus the pipeline behind it.
type Tracing struct {
	tracer  *tracer.Tracer
	config  config.Config
	batcher *export.Batcher
	closers []io.Closer

	out         io.Writer
	once        sync.Once
	shutdownErr error
}

// otelErrors is the OpenTelemetry error handler Start installs. It is
// process-wide: the OpenTelemetry libraries have one global handler.
var otelErrors = export.NewErrorHandler(log.New(os.Stderr, "flowtrace: ", log.LstdFlags), export.DefaultErrorLogInterval)

// Start reads the environment and the platform, builds the tracer and its
// export pipeline, installs the tracer as the OpenTracing global (unless
// config.WithoutGlobalTracer is given) and prints one line with the
// effective configuration, plus one line per malformed setting.
//
// Globals: besides the OpenTracing tracer, Start sets exactly one global,
// and only when it builds an OTLP exporter: the OpenTelemetry error handler
// (otel.SetErrorHandler), whatever config.WithoutGlobalTracer says. The
// OTLP clients report some errors only there; flowtrace's handler writes
// them to standard error at most once per 10 s with a count, so an error
// storm cannot flood the service's logs, and counts them in
// Stats.OpenTelemetry. It is shared by every Tracing in the process. A
// program that wants its own handler sets it after Start.
//
// Accounting: OTLP partial successes (the collector accepted a batch except
// some spans) are counted per Tracing in Stats.Export.DroppedRejected, and
// Stats.Export.Exported counts only accepted spans. The OTLP clients of
// otlptrace v1.47.0 return partial successes from each upload, which is
// where flowtrace counts them; the handler also recognises them, and
// counts those it sees (from other OpenTelemetry components in the process)
// in Stats.OpenTelemetry only.
//
// Start never fails: what cannot be set up degrades to something safe (a
// default, or no export) and is reported in that output. Call Shutdown
// before the process exits so queued spans are flushed.
func Start(ctx context.Context, opts ...config.Option) *Tracing {
	cfg := config.Load(ctx, opts...)
	// Config passes propagator names through; the registry resolves them
	// (one policy, propagation.Select), and the start-up line and
	// Config() show the names in effect.
	props := propagation.Select(cfg.Propagators)
	if w := props.Warning(); w != "" {
		cfg.Warnings = append(cfg.Warnings, "propagators: "+w)
	}
	cfg.Propagators = props.Names
	t := &Tracing{config: cfg, out: stderr}
	out := t.out
	for _, w := range cfg.Warnings {
		fmt.Fprintf(out, "flowtrace: warning: %s\n", w)
	}

	// The environment's limits over the defaults: the name and key limit
	// has no OTEL_* variable. A count of 0 keeps none, as in the
	// OpenTelemetry specification.
	limits := tracer.DefaultLimits()
	limits.AttributeCount = cfg.AttributeCountLimit
	limits.AttributeValueLength = cfg.AttributeValueLengthLimit
	limits.EventCount = cfg.EventCountLimit
	limits.LinkCount = cfg.LinkCountLimit
	tracerOpts := []tracer.Option{
		tracer.WithPropagator(props.Propagator),
		tracer.WithLimits(limits),
		// Routed baggage (critical_operation, traffic_source, flow_id) is
		// tagged on every span and sent on: only values the conventions
		// allow get through.
		tracer.WithBaggageValidator(semconv.ValidBaggageTag),
	}
	if policy := t.tagPolicy(cfg, out); policy != nil {
		tracerOpts = append(tracerOpts, tracer.WithTagPolicy(policy))
	}
	// Recording and sampling are separate: without an exporter the sampler
	// still decides and its decision travels (as in the OpenTelemetry SDK);
	// only a disabled SDK makes no decisions and passes its callers'
	// context through.
	switch {
	case cfg.Disabled:
		tracerOpts = append(tracerOpts, tracer.WithSampler(tracer.ParentBased(tracer.AlwaysOff())), tracer.PassThrough())
	case cfg.Exporter == config.ExporterNone:
		tracerOpts = append(tracerOpts, tracer.WithSampler(Sampler(cfg)), tracer.NonRecording())
	default:
		exp, err := t.exporter(cfg)
		if err != nil {
			fmt.Fprintf(out, "flowtrace: warning: %v; spans are not exported\n", err)
			tracerOpts = append(tracerOpts, tracer.WithSampler(Sampler(cfg)), tracer.NonRecording())
			break
		}
		if _, ok := exp.(*export.OTLPExporter); ok {
			otel.SetErrorHandler(otelErrors)
		}
		t.batcher = export.NewBatcher(exp,
			export.WithMaxQueueSize(cfg.MaxQueueSize),
			export.WithMaxQueueBytes(int64(cfg.MaxQueueBytes)),
			export.WithMaxBatchSize(cfg.MaxExportBatchSize),
			export.WithScheduleDelay(cfg.BatchScheduleDelay),
			export.WithExportTimeout(cfg.BatchExportTimeout),
		)
		tracerOpts = append(tracerOpts, tracer.WithSampler(Sampler(cfg)), tracer.WithProcessor(t.batcher))
	}
	t.tracer = tracer.New(tracerOpts...)
	if cfg.SetGlobal {
		opentracing.SetGlobalTracer(t.tracer)
	}
	// The line names the sampler the tracer runs, not the one asked for.
	fmt.Fprintln(out, cfg.SummaryWithSampler(t.tracer.Sampler().Description()))
	return t
}

// tagPolicy builds the semantic-convention enforcer FLOWTRACE_SEMCONV_MODE
// asks for; with "off" there is none, and tags cost nothing extra.
func (t *Tracing) tagPolicy(cfg config.Config, out io.Writer) tracer.TagPolicy {
	mode, err := semconv.ParseMode(cfg.SemconvMode)
	if err != nil || mode == semconv.Off || cfg.Disabled {
		return nil
	}
	reg := semconv.Default()
	if cfg.SemconvRegistry != "" {
		if reg, err = semconv.LoadFile(cfg.SemconvRegistry); err != nil {
			fmt.Fprintf(out, "flowtrace: warning: FLOWTRACE_SEMCONV_REGISTRY: %v; using the built-in registry\n", err)
			reg = semconv.Default()
		}
	}
	enf := semconv.NewEnforcer(reg, mode, semconv.WithLogger(slog.New(slog.NewTextHandler(out, nil))))
	t.closers = append(t.closers, enf)
	return enf
}

func (t *Tracing) exporter(cfg config.Config) (export.Exporter, error) {
	resource := make([]tracer.Attribute, len(cfg.Resource))
	for i, a := range cfg.Resource {
		resource[i] = tracer.Attribute{Key: a.Key, Value: a.Value}
	}
	scope := export.WithScope("github.com/flowtrace/flowtrace", config.SDKVersion)
	switch cfg.Exporter {
	case config.ExporterConsole:
		switch cfg.ConsoleFile {
		case "", "/dev/stderr":
			return export.NewConsole(os.Stderr, resource, scope), nil
		case "/dev/stdout":
			return export.NewConsole(os.Stdout, resource, scope), nil
		}
		// Regular files only, opened without blocking: a FIFO with no
		// reader would block open(2) forever, and a device or a FIFO
		// with a slow reader would let the console stall the exporter.
		f, err := safefile.OpenAppend(cfg.ConsoleFile)
		if err != nil {
			return nil, fmt.Errorf("console exporter: %w", err)
		}
		t.closers = append(t.closers, f)
		return export.NewConsole(f, resource, scope), nil
	default:
		client, err := export.NewOTLPClient(export.OTLPSettings{
			Protocol:    cfg.Protocol,
			Endpoint:    cfg.Endpoint,
			Insecure:    cfg.Insecure,
			Headers:     cfg.Headers,
			Timeout:     requestTimeout(cfg),
			Compression: cfg.Compression,
			Certificate: cfg.Certificate,
		})
		if err != nil {
			return nil, fmt.Errorf("OTLP exporter: %w", err)
		}
		return export.NewOTLP(client, resource, scope), nil
	}
}

// requestTimeout is the OTLP per-request timeout. OTEL_EXPORTER_OTLP_TIMEOUT=0
// means no per-request limit; the batch export deadline
// (OTEL_BSP_EXPORT_TIMEOUT) then bounds each request, so that a hung
// collector still cannot stall the export worker.
func requestTimeout(cfg config.Config) time.Duration {
	if cfg.Timeout <= 0 {
		return cfg.BatchExportTimeout
	}
	return cfg.Timeout
}

// Sampler builds the sampler that cfg names: the OTEL_TRACES_SAMPLER
// sampler, with the per-operation rate limit applied to root spans.
func Sampler(cfg config.Config) tracer.Sampler {
	var root tracer.Sampler
	parentBased := true
	switch cfg.Sampler {
	case config.SamplerAlwaysOn:
		root, parentBased = tracer.AlwaysOn(), false
	case config.SamplerAlwaysOff:
		root, parentBased = tracer.AlwaysOff(), false
	case config.SamplerTraceIDRatio:
		root, parentBased = tracer.TraceIDRatio(cfg.SamplerArg), false
	case config.SamplerParentBasedAlwaysOff:
		root = tracer.AlwaysOff()
	case config.SamplerParentBasedTraceIDRatio:
		root = tracer.TraceIDRatio(cfg.SamplerArg)
	default:
		root = tracer.AlwaysOn()
	}
	if cfg.OperationRateLimit > 0 {
		root = tracer.RateLimited(cfg.OperationRateLimit, cfg.MaxOperations, root)
	}
	if parentBased {
		return tracer.ParentBased(root)
	}
	return root
}

// Tracer returns the OpenTracing tracer.
func (t *Tracing) Tracer() *tracer.Tracer { return t.tracer }

// Config returns the effective configuration.
func (t *Tracing) Config() config.Config { return t.config }

// Stats counts spans through the whole pipeline. After Shutdown has
// returned, every sampled span finished is exported or dropped:
//
//	Tracer.Finished = Export.Exported + Export.Dropped()
//
// with Export.Dropped() split by reason: DroppedQueueFull, DroppedExportFailed,
// DroppedRejected (partial success) and DroppedShutdown.
type Stats struct {
	Tracer tracer.Stats
	Export export.Stats
	// OpenTelemetry counts the errors the OpenTelemetry libraries reported
	// to the global error handler Start installs. It is process-wide, shared
	// by every Tracing, and not part of the identity above.
	OpenTelemetry export.ErrorHandlerStats
}

// Stats returns the tracer's and the export queue's counters.
func (t *Tracing) Stats() Stats {
	s := Stats{Tracer: t.tracer.Stats(), OpenTelemetry: otelErrors.Stats()}
	if t.batcher != nil {
		s.Export = t.batcher.Stats()
	}
	return s
}

// ForceFlush exports every span finished so far, within ctx's deadline.
func (t *Tracing) ForceFlush(ctx context.Context) error { return t.tracer.ForceFlush(ctx) }

// CloseTimeout bounds Close.
const CloseTimeout = 5 * time.Second

// Close is Shutdown with a deadline of CloseTimeout, for `defer
// tracing.Close()` in main, the io.Closer habit of OpenTracing tracers.
func (t *Tracing) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
	defer cancel()
	return t.Shutdown(ctx)
}

// Shutdown flushes queued spans and stops the exporter. It returns by ctx's
// deadline even if the collector hangs; spans it could not deliver are
// counted as dropped. Calling it again returns the first result.
func (t *Tracing) Shutdown(ctx context.Context) error {
	t.once.Do(func() {
		err := t.tracer.Shutdown(ctx)
		otelErrors.Flush()
		if t.batcher != nil {
			// One line for whoever reads the logs of a service that stopped:
			// did its last spans make it?
			if st := t.batcher.Stats(); st.Dropped() > 0 {
				fmt.Fprintf(t.out, "flowtrace: shut down: %d span(s) exported, %d dropped (queue full %d, export failed %d, rejected by the collector %d, at shutdown %d)\n",
					st.Exported, st.Dropped(), st.DroppedQueueFull, st.DroppedExportFailed, st.DroppedRejected, st.DroppedShutdown)
			}
		}
		for _, c := range t.closers {
			err = errors.Join(err, c.Close())
		}
		t.shutdownErr = err
	})
	return t.shutdownErr
}
