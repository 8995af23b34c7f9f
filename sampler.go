package flowtrace

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/flowtrace/flowtrace/config"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
	"github.com/flowtrace/flowtrace/tracer/remotesampling"
)

// The sampler mapping: the OTEL_TRACES_SAMPLER names Start knows, each
// with how it builds its root sampler from OTEL_TRACES_SAMPLER_ARG and
// whether it is parent-based. config passes the name and the argument
// through unjudged (an argument's syntax depends on the sampler); this
// table is the one place that judges them. To add a sampler, add a row.
var samplers = []struct {
	name        string
	parentBased bool
	// root builds the sampler for roots from the argument ("" when unset);
	// an error keeps the sampler with its default argument, with a warning.
	root func(arg string, env *samplerEnv) (tracer.Sampler, error)
}{
	{"always_on", false, constant(tracer.AlwaysOn)},
	{"always_off", false, constant(tracer.AlwaysOff)},
	{"traceidratio", false, ratio},
	{"parentbased_always_on", true, constant(tracer.AlwaysOn)},
	{"parentbased_always_off", true, constant(tracer.AlwaysOff)},
	{"parentbased_traceidratio", true, ratio},
	{"jaeger_remote", false, jaegerRemote},
	{"parentbased_jaeger_remote", true, jaegerRemote},
}

// samplerEnv is what a sampler that runs (jaeger_remote polls) needs from
// Start, and what it leaves for Shutdown.
type samplerEnv struct {
	service       string
	maxOperations int
	log           *sdklog.Logger
	// closers are closed by Shutdown.
	closers []io.Closer
	// remote is the jaeger_remote sampler, for Stats.
	remote *remotesampling.Sampler
}

// jaegerRemote is OpenTelemetry's jaeger_remote sampler
// (endpoint=…,pollingIntervalMs=…,initialSamplingRate=…): see package
// remotesampling. Bad entries of the argument fall back to their defaults,
// one warning each.
func jaegerRemote(arg string, env *samplerEnv) (tracer.Sampler, error) {
	args, warnings := remotesampling.ParseArg(arg)
	if u, err := url.Parse(args.Endpoint); err == nil && u.User != nil && env.log != nil {
		pw, _ := u.User.Password()
		env.log.AddSecrets(u.User.Username(), pw)
	}
	s, err := remotesampling.New(env.service, remotesampling.WithArgs(args),
		remotesampling.WithLogger(slog.New(env.log.Slog())), remotesampling.WithMaxOperations(env.maxOperations))
	if err != nil {
		// ParseArg only lets through endpoints New accepts; should that
		// change, sample at the initial rate rather than not at all.
		return tracer.TraceIDRatio(args.InitialSamplingRate), err
	}
	env.closers = append(env.closers, s)
	env.remote = s
	if len(warnings) > 0 {
		return s, errors.New(strings.Join(warnings, "; "))
	}
	return s, nil
}

// defaultSampler is OpenTelemetry's default, and the one an unknown name
// falls back to.
const defaultSampler = "parentbased_always_on"

// constant is a sampler without an argument; one given is ignored, as
// OpenTelemetry specifies.
func constant(f func() tracer.Sampler) func(string, *samplerEnv) (tracer.Sampler, error) {
	return func(string, *samplerEnv) (tracer.Sampler, error) { return f(), nil }
}

// ratio reads the argument as a probability in [0, 1], 1 when unset.
func ratio(arg string, _ *samplerEnv) (tracer.Sampler, error) {
	if arg == "" {
		return tracer.TraceIDRatio(1), nil
	}
	f, err := strconv.ParseFloat(arg, 64)
	switch {
	case err != nil:
		return tracer.TraceIDRatio(1), fmt.Errorf("not a number")
	case math.IsNaN(f) || f < 0 || f > 1:
		return tracer.TraceIDRatio(1), fmt.Errorf("ratio out of range [0, 1]")
	}
	return tracer.TraceIDRatio(f), nil
}

// samplerFor builds the sampler cfg names, with the per-operation rate
// limit applied to root spans, plus one warning per name or argument it
// cannot use.
func samplerFor(cfg config.Config) (tracer.Sampler, []string) {
	return buildSampler(cfg, &samplerEnv{service: cfg.ServiceName, maxOperations: cfg.MaxOperations})
}

// buildSampler is samplerFor with what a running sampler needs (env).
// FLOWTRACE_SAMPLER_OPERATION_RATE wraps whatever the name gives, the
// remote strategy included: the cap is a ceiling that holds whatever the
// strategy says.
func buildSampler(cfg config.Config, env *samplerEnv) (tracer.Sampler, []string) {
	var warnings []string
	i := samplerIndex(cfg.Sampler)
	if i < 0 {
		names := make([]string, len(samplers))
		for j, s := range samplers {
			names[j] = s.name
		}
		warnings = append(warnings, fmt.Sprintf("%s=%s: unknown sampler (known: %s); using %s",
			cfg.SamplerSource, quote(cfg.Sampler), strings.Join(names, ", "), defaultSampler))
		i = samplerIndex(defaultSampler)
	}
	s := samplers[i]
	root, err := s.root(cfg.SamplerArg, env)
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("%s=%s (sampler %s): %v; using %s",
			argSource(cfg.SamplerSource), quote(cfg.SamplerArg), s.name, err, root.Description()))
	}
	if cfg.OperationRateLimit > 0 {
		root = tracer.RateLimited(cfg.OperationRateLimit, cfg.MaxOperations, root)
	}
	if s.parentBased {
		return tracer.ParentBased(root), warnings
	}
	return root, warnings
}

func samplerIndex(name string) int {
	for i, s := range samplers {
		if s.name == name {
			return i
		}
	}
	return -1
}

// argSource names where the argument came from, after where the name did.
func argSource(nameSource string) string {
	if nameSource == "WithSampler" {
		return "WithSampler arg"
	}
	return "OTEL_TRACES_SAMPLER_ARG"
}

// quote quotes a configured value for a warning, bounded: the SDK log
// escapes the rest.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}
