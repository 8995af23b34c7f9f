package flowtrace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/opentracing/opentracing-go"
	"go.opentelemetry.io/otel"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/export"
	"github.com/flowtrace/flowtrace/internal/safefile"
	"github.com/flowtrace/flowtrace/oteltracer"
	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracer/remotesampling"
)

// stderr is where Start reports; tests replace it.
var stderr io.Writer = os.Stderr

// Tracing is a started SDK: the tracer plus the pipeline behind it.
type Tracing struct {
	tracer  *tracer.Tracer
	otel    *oteltracer.Provider
	config  config.Config
	batcher *export.Batcher
	closers []io.Closer
	// remoteSampler is the jaeger_remote sampler, if that is the one
	// configured.
	remoteSampler *remotesampling.Sampler
	flow          propagation.Selection // for its flow-id counters
	policy        *semconv.Enforcer     // nil without enforcement

	// log is the SDK logger (it holds the secrets it scrubs); slog is the
	// same logger as the *slog.Logger every component takes.
	log         *sdklog.Logger
	slog        *slog.Logger
	once        sync.Once
	shutdownErr error
}

// otelErrors is the OpenTelemetry error handler Start installs. It is
// process-wide: the OpenTelemetry libraries have one global handler. Each
// Start points it at its own SDK logger.
var otelErrors = export.NewErrorHandler(sdklog.Default(), export.DefaultErrorLogInterval)

// Start reads the environment and the platform, builds the tracer and its
// export pipeline, installs it as the OpenTracing global tracer and as the
// OpenTelemetry global tracer provider and propagator (unless
// WithoutGlobalTracer is given) and prints one line with the
// effective configuration, plus one line per malformed setting.
//
// Logging: everything the SDK says goes through one logger (package
// sdklog) on standard error, at the level OTEL_LOG_LEVEL names (error,
// warn, info by default, debug: one more line per export); lines are
// escaped, bounded, rate-limited and never carry header values or
// endpoint passwords.
//
// Globals: unless WithoutGlobalTracer is given, Start sets three:
// the OpenTracing tracer (opentracing.SetGlobalTracer), the OpenTelemetry
// tracer provider (otel.SetTracerProvider: package oteltracer, the
// OpenTelemetry API on the same tracer, so OpenTelemetry-instrumented
// libraries join the same traces and pipeline) and the OpenTelemetry
// propagator (otel.SetTextMapPropagator: the configured propagators).
// Tracing.TracerProvider returns the provider either way. Start also sets
// the OpenTelemetry logger (otel.SetLogger) and error handler
// (otel.SetErrorHandler), both writing through the SDK logger, whatever
// WithoutGlobalTracer says; flowtrace itself reports nothing through them (its OTLP transport
// is its own), they are for other OpenTelemetry components in the
// process, whose errors are counted in Stats.OpenTelemetry. They are
// shared by every Tracing in the process. A program that wants its own
// sets them after Start.
//
// Accounting: OTLP partial successes (the collector accepted a batch except
// some spans) are counted per Tracing in Stats.Export.DroppedRejected, and
// Stats.Export.Exported counts only accepted spans. Spans sent to a
// collector that never answered are Stats.Export.Unconfirmed.
//
// Options: every config.Option (see package config), and this package's
// pipeline options: WithSampler, WithSpanProcessor, WithSpanExporter,
// WithLogger and WithoutGlobalTracer. The sampler OTEL_TRACES_SAMPLER names
// is mapped here (sampler.go), not in config.
//
// Start never fails: what cannot be set up degrades to something safe (a
// default, or no export) and is reported in that output. Call Shutdown
// before the process exits so queued spans are flushed.
func Start(ctx context.Context, opts ...Option) *Tracing {
	cfg := config.Load(ctx, opts...)
	pl := pipelineOf(opts)
	// Config passes propagator names through; the registry resolves them
	// (one policy, propagation.Select), and the start-up line and
	// Config() show the names in effect.
	props := propagation.Select(cfg.Propagators)
	if w := props.Warning(); w != "" {
		cfg.Warnings = append(cfg.Warnings, "propagators: "+w)
	}
	cfg.Propagators = props.Names
	// Config passes the sampler's name and argument through too; the
	// mapping is this package's (sampler.go). A program's own sampler
	// replaces it, and then nothing is judged.
	t := &Tracing{log: newLogger(stderr, pl.logger, cfg)}
	sampler := pl.sampler
	if sampler == nil && !cfg.Disabled {
		var warnings []string
		env := &samplerEnv{service: cfg.ServiceName, maxOperations: cfg.MaxOperations, log: t.log}
		sampler, warnings = buildSampler(cfg, env)
		cfg.Warnings = append(cfg.Warnings, warnings...)
		t.closers = append(t.closers, env.closers...)
		t.remoteSampler = env.remote
	}
	t.config, t.flow = cfg, props
	// One logger, threaded: the batcher, the OTLP exporter, the
	// OpenTelemetry error handler, semconv's enforcer and, through the
	// tracer (Tracer.Logger), the middleware all write through it.
	t.slog = slog.New(t.log.Slog())
	otelErrors.SetLogger(t.slog)
	otel.SetErrorHandler(otelErrors)
	otel.SetLogger(t.log.Logr())
	for _, w := range cfg.Warnings {
		t.log.Warnf("%s", w)
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
		tracer.WithLogger(t.slog),
	}
	if policy := t.tagPolicy(cfg); policy != nil {
		tracerOpts = append(tracerOpts, tracer.WithTagPolicy(policy))
	}
	// Recording and sampling are separate: without an exporter the sampler
	// still decides and its decision travels (as in the OpenTelemetry SDK);
	// only a disabled SDK makes no decisions and passes its callers'
	// context through.
	if cfg.Disabled {
		tracerOpts = append(tracerOpts, tracer.WithSampler(tracer.ParentBased(tracer.AlwaysOff())), tracer.PassThrough())
	} else {
		tracerOpts = append(tracerOpts, tracer.WithSampler(sampler))
		var procs processors
		if exp := t.spanExporter(cfg, pl); exp != nil {
			t.batcher = export.NewBatcher(exp,
				export.WithMaxQueueSize(cfg.MaxQueueSize),
				export.WithMaxQueueBytes(int64(cfg.MaxQueueBytes)),
				export.WithMaxBatchSize(cfg.MaxExportBatchSize),
				export.WithScheduleDelay(cfg.BatchScheduleDelay),
				export.WithExportTimeout(cfg.BatchExportTimeout),
				export.WithLogger(t.slog),
			)
			procs = append(procs, t.batcher)
		}
		procs = append(procs, pl.processors...)
		switch len(procs) {
		case 0:
			tracerOpts = append(tracerOpts, tracer.NonRecording())
		case 1:
			tracerOpts = append(tracerOpts, tracer.WithProcessor(procs[0]))
		default:
			tracerOpts = append(tracerOpts, tracer.WithProcessor(procs))
		}
	}
	t.tracer = tracer.New(tracerOpts...)
	t.otel = oteltracer.NewProvider(t.tracer)
	if !pl.noGlobals {
		opentracing.SetGlobalTracer(t.tracer)
		otel.SetTracerProvider(t.otel)
		otel.SetTextMapPropagator(t.otel.Propagator())
	}
	// The line names the sampler the tracer runs, not the one asked for.
	t.log.Infof("%s", cfg.SummaryWithSampler(t.tracer.Sampler().Description()))
	return t
}

// spanExporter is the program's exporter, else the one the configuration
// names; nil when there is none (OTEL_TRACES_EXPORTER=none, or one that
// could not be built, which is reported).
func (t *Tracing) spanExporter(cfg config.Config, pl pipeline) export.Exporter {
	if pl.exporter != nil {
		return pl.exporter
	}
	if cfg.Exporter == config.ExporterNone {
		return nil
	}
	exp, err := t.exporter(cfg)
	if err != nil {
		t.log.Warnf("%v; spans are not exported", err)
		return nil
	}
	return exp
}

// newLogger builds the SDK logger for cfg, with every secret the
// configuration holds registered, so that no line can show one.
func newLogger(w io.Writer, program *slog.Logger, cfg config.Config) *sdklog.Logger {
	level, err := sdklog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = sdklog.DefaultLevel
	}
	l := sdklog.New(w, level)
	if program != nil {
		l = sdklog.ToHandler(program.Handler(), level)
	}
	for _, v := range cfg.Headers {
		l.AddSecrets(v)
	}
	if u, err := url.Parse(cfg.Endpoint); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		l.AddSecrets(u.User.Username(), pw)
	}
	return l
}

// tagPolicy builds the semantic-convention enforcer FLOWTRACE_SEMCONV_MODE
// asks for; with "off" there is none, and tags cost nothing extra.
func (t *Tracing) tagPolicy(cfg config.Config) tracer.TagPolicy {
	mode, err := semconv.ParseMode(cfg.SemconvMode)
	if err != nil || mode == semconv.Off || cfg.Disabled {
		return nil
	}
	reg := semconv.Default()
	if cfg.SemconvRegistry != "" {
		if reg, err = semconv.LoadFile(cfg.SemconvRegistry); err != nil {
			t.log.Warnf("FLOWTRACE_SEMCONV_REGISTRY: %v; using the built-in registry", err)
			reg = semconv.Default()
		}
	}
	// The tracer closes it on Shutdown (a tag policy that is an io.Closer).
	t.policy = semconv.NewEnforcer(reg, mode, semconv.WithLogger(t.slog))
	return t.policy
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
			Protocol:          cfg.Protocol,
			Endpoint:          cfg.Endpoint,
			Insecure:          cfg.Insecure,
			Headers:           cfg.Headers,
			Timeout:           requestTimeout(cfg),
			Compression:       cfg.Compression,
			Certificate:       cfg.Certificate,
			ClientCertificate: cfg.ClientCertificate,
			ClientKey:         cfg.ClientKey,
			TLSConfig:         cfg.TLSConfig,
		})
		if err != nil {
			return nil, fmt.Errorf("OTLP exporter: %w", err)
		}
		return export.NewOTLP(client, resource, scope,
			export.WithMaxRequestBytes(cfg.MaxRequestBytes), export.WithExporterLogger(t.slog)), nil
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

// Tracer returns the OpenTracing tracer.
func (t *Tracing) Tracer() *tracer.Tracer { return t.tracer }

// TracerProvider returns the OpenTelemetry API of the tracer: its spans are
// the tracer's, in the same context, sampling, limits and export queue.
func (t *Tracing) TracerProvider() *oteltracer.Provider { return t.otel }

// Config returns the effective configuration.
func (t *Tracing) Config() config.Config { return t.config }

// Stats counts spans through the whole pipeline. After Shutdown has
// returned, every sampled span finished is exported, dropped, or
// unconfirmed (sent to a collector that never answered: it may have it):
//
//	Tracer.Finished = Export.Exported + Export.Dropped() + Export.Unconfirmed
//
// with Export.Dropped() split by reason: DroppedQueueFull, DroppedExportFailed,
// DroppedRejected (partial success) and DroppedShutdown.
type Stats struct {
	Tracer tracer.Stats
	Export export.Stats
	// Edge counts what flowtrace's middleware (tracehttp, tracegrpc,
	// tracekafka) saw on this tracer: per Tracing, not per process.
	Edge tracer.EdgeStats
	// FlowID counts the invalid and mismatched flow ids the flowid
	// propagator of this Tracing extracted.
	FlowID propagation.FlowIDStats
	// Semconv counts tag violations (zero with FLOWTRACE_SEMCONV_MODE=off).
	Semconv semconv.Stats
	// OpenTelemetry counts the errors the OpenTelemetry libraries reported
	// to the global error handler Start installs. It is process-wide, shared
	// by every Tracing, and not part of the identity above.
	OpenTelemetry export.ErrorHandlerStats
	// RemoteSampling is the jaeger_remote sampler's strategy (version,
	// when applied, per-operation probabilities) and polls; nil with any
	// other sampler.
	RemoteSampling *remotesampling.Stats
}

// Stats returns the tracer's and the export queue's counters.
func (t *Tracing) Stats() Stats {
	s := Stats{
		Tracer:        t.tracer.Stats(),
		Edge:          t.tracer.Edge().Stats(),
		FlowID:        t.flow.FlowIDStats(),
		OpenTelemetry: otelErrors.Stats(),
	}
	if t.policy != nil {
		s.Semconv = t.policy.Stats()
	}
	if t.batcher != nil {
		s.Export = t.batcher.Stats()
	}
	if t.remoteSampler != nil {
		rs := t.remoteSampler.Stats()
		s.RemoteSampling = &rs
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
			if st := t.batcher.Stats(); st.Dropped()+st.Unconfirmed > 0 {
				t.log.Warnf("shut down: %d span(s) exported, %d unconfirmed (sent, no answer), %d dropped (queue full %d, export failed %d, rejected by the collector %d, at shutdown %d)",
					st.Exported, st.Unconfirmed, st.Dropped(), st.DroppedQueueFull, st.DroppedExportFailed, st.DroppedRejected, st.DroppedShutdown)
			}
		}
		for _, c := range t.closers {
			err = errors.Join(err, c.Close())
		}
		t.shutdownErr = err
	})
	return t.shutdownErr
}
