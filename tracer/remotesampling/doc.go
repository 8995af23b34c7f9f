// Package remotesampling is flowtrace's Jaeger remote sampler: a
// tracer.Sampler that follows the sampling strategy a Jaeger
// remote-sampling server gives for one service, changed at run time
// without a redeploy. Jaeger v2's remote_sampling extension (file or
// adaptive strategies) and the OpenTelemetry Collector's
// jaegerremotesampling extension serve it.
//
// flowtrace.Start builds it for OTEL_TRACES_SAMPLER=jaeger_remote and
// parentbased_jaeger_remote (the latter follows a caller's decision and
// asks the strategy only for trace roots), with OpenTelemetry's argument
// syntax read by ParseArg:
//
//	OTEL_TRACES_SAMPLER_ARG=endpoint=jaeger:5779,pollingIntervalMs=60000,initialSamplingRate=0.001
//
//	endpoint             default localhost:14250. host:port, grpc://host:port or
//	                     grpcs://host:port: the gRPC SamplingManager of Jaeger's
//	                     sampling.proto (Jaeger v2 serves it on 5779). An http://
//	                     or https:// URL: HTTP GET of that URL with ?service=,
//	                     JSON (Jaeger v2 on 5778 at any path, the collector at
//	                     /sampling). OpenTelemetry writes its gRPC default as
//	                     http://localhost:14250; flowtrace reads http(s) as HTTP,
//	                     so write a gRPC endpoint without a scheme or as grpc://.
//	pollingIntervalMs    default 60000, in [100, 86400000]
//	initialSamplingRate  default 0.001, in [0, 1]: the probability until the
//	                     first answer
//
// A bad entry falls back to its default with a warning; an unknown key is
// left out with one.
//
// # Strategies and what a decision records
//
// Probabilistic: a trace is kept iff tracer.ProbabilityThreshold(p) ≤ its
// randomness (OTEP 235, as tracer.TraceIDRatio), so it publishes th and
// records sampling.probability p. Rate limiting: one token bucket
// (internal/tokenbucket, through tracer.RateLimited) for the whole
// service; the decision erases th and records the share of traces kept.
// Per operation: each listed operation has its probability, others the
// default one; with a lower bound, every trace takes a token of its
// operation's bucket and a trace the probability refused is kept if there
// was one (Jaeger's guaranteed-throughput rule). While the lower bound
// keeps more than 1 % of an operation's kept traces, the probability no
// longer says what a trace stands for, so its decisions too erase th, and
// all of that operation's decisions record the share kept over the last
// second. At most WithMaxOperations operations (FLOWTRACE_SAMPLER_MAX_OPERATIONS,
// default 2000) get a probability and a bucket of their own; the rest of
// the strategy's list is dropped (Stats.OperationsDropped) and later names
// at run time share one bucket. The defaultUpperBoundTracesPerSecond of
// Jaeger's strategy is read and ignored, as Jaeger's own clients do.
//
// A sampled trace root records the rule that kept it as sampler.type
// ("probabilistic", "lowerbound", "ratelimiting") and sampler.param (the
// probability, or the rate), which Jaeger's adaptive sampling reads.
//
// # Precedence
//
// A critical user operation forced in by the edge (tracehttp and tracegrpc
// WithCriticalOperation, capped by WithCriticalSampling) is sampled above
// the strategy: the forced rule is a sampling.priority the tracer applies
// after the sampler, so such a trace records probability 1, no th and no
// sampler tags. FLOWTRACE_SAMPLER_OPERATION_RATE stays a ceiling above the
// strategy: Start wraps the remote sampler in tracer.RateLimited, which
// thins what the strategy keeps, multiplies its probability by the share
// let through, keeps its rule and erases th.
//
// # Failures
//
// Decisions read the current strategy through one atomic pointer and
// never wait for the network; a poller goroutine (stopped by Close, which
// Start's Shutdown calls) asks at once and then every polling interval.
// An answer that does not parse strictly (one JSON object, known strategy
// type as integer or string, probabilities in [0, 1], rates in [0, 1e6]),
// a body over MaxBodyBytes, an HTTP status other than 200, or an endpoint
// that is down or hangs (each poll is bounded by min(interval, 10 s)),
// keeps the last good strategy — the initial rate if there was none — and
// logs one warning for that poll through the SDK logger. Stats reports
// the strategy version, when it was applied, the per-operation
// probabilities, and the polls.
//
// # Wire format
//
// The gRPC messages (SamplingStrategyParameters and
// SamplingStrategyResponse with its probabilistic, rate-limiting and
// per-operation strategies) are encoded by hand with protowire (proto.go)
// instead of through Jaeger's generated types: github.com/jaegertracing/jaeger-idl
// generates gogo protobuf messages, and importing them would put the
// unmaintained github.com/gogo/protobuf into the module graph of every
// flowtrace user for one request and one small answer. The codec that
// carries them is given to that one call (grpc.ForceCodecV2) and never
// registered, so the process-wide "proto" codec other libraries use is
// untouched. The decoder reads answers as untrusted: at most
// MaxBodyBytes, unknown fields (newer servers') skipped, a known field of
// the wrong wire type or a truncated message refused, sub-messages sent
// twice merged as protobuf does.
package remotesampling
