// Package semconv holds flowtrace's semantic conventions: the org's tag
// registry, typed helpers generated from it, and a run-time enforcer that
// plugs into the tracer.
//
// # Registry
//
// registry.yaml (embedded; Default returns it) lists every tag and log field
// key with its type (string, int, float, bool), allowed values (enum) or
// pattern, description, stability (stable, experimental, deprecated), where
// it is used (tag, log) and which span kinds require it. The file's header
// documents the format. A key ending in ".*" is a template: it matches any
// key with that prefix (e.g. http.request.header.*).
//
// Required tags: a span of kind K must carry every tag required for K
// without a requirement_group, and all the tags of at least one group
// required for K. In the default registry a server span carries
// http.method and http.status_code (group http) or rpc.system (group rpc);
// a client span http.method and http.url, or rpc.system, or db.type; a
// producer or consumer span messaging.system and messaging.destination.name,
// or message_bus.destination. Note that span.kind and error never reach the
// span's attributes (the tracer turns them into the span kind and status),
// so they cannot be required.
//
// An org replaces the registry with its own file, or extends it: a file
// whose top level says "extends: default" adds keys to the default registry
// and overrides those it redefines (Extend does the same with two loaded
// registries). Load and LoadFile report every problem as a *LoadError naming
// the file and line. LoadFile (and so FLOWTRACE_SEMCONV_REGISTRY) reads only
// a regular file of at most 4 MiB, within two seconds: a FIFO, a device
// such as /dev/zero, a directory or a larger file is an error, never a hang
// or an unbounded read.
//
// # Generated helpers
//
// tags_gen.go and REFERENCE.md are generated from registry.yaml by
// cmd/semconvgen (run go generate ./semconv after changing the registry; a
// test fails when they are out of date). Helpers follow opentracing-go's
// ext package:
//
//	semconv.HTTPMethod.Set(span, semconv.HTTPMethodGet)
//	semconv.HTTPStatusCode.Set(span, 200)
//	tr.StartSpan("checkout", semconv.CriticalOperation.Tag("checkout"))
//	span.LogFields(semconv.Event.Field("error"), semconv.Message.Field(err.Error()))
//
// The generator imports this package, so tags_gen.go must compile for it to
// run: rename a helper type by hand in both places.
//
// # Enforcement
//
// NewEnforcer returns a tracer.TagPolicy (install it with
// tracer.WithTagPolicy). In mode Warn it counts violations (Stats) and logs
// at most one line per key per interval, leaving spans unchanged; in mode
// Strict it drops tags with unknown keys, values of the wrong type and
// values outside the allowed set, converts values whose type is wrong but
// convertible without loss ("200" to 200 for an int tag, 3 to 3.0 for a
// float tag), keeps deprecated keys, and counts missing required tags at
// Finish; the tracer records the count as the semconv.violations tag. In
// mode Off install no policy at all (NewPolicy returns nil): the tracer
// then does no work. Only tags set by callers are checked: the tags the
// tracer sets itself (sampling.probability, baggage copied to tags) are
// not. Log fields are not checked at run time.
//
// A valid tag costs one map look-up and no allocation.
//
// # Critical operations and traffic source
//
// CriticalOperationKey and TrafficSourceKey are baggage items the edge sets
// (Routing.Apply) and every service reads (FromBaggage); the tags of the
// same names mark every span of the trace.
//
// # Environment
//
//   - FLOWTRACE_SEMCONV_REGISTRY: path of a registry file that replaces
//     (or, with "extends: default", extends) the embedded one (FromEnv).
//   - FLOWTRACE_SEMCONV_MODE: off (default), warn or strict (ModeFromEnv,
//     PolicyFromEnv).
//   - OTEL_SEMCONV_STABILITY_OPT_IN: which vocabulary the helpers and the
//     middleware emit, legacy (default) or OpenTelemetry's stable names
//     (package semconv/stability). The helpers' Set follows it (read once
//     per process, or stability.SetDefault) for keys whose mapping does not
//     depend on span kind: DBStatement.Set sets db.query.text under
//     database, both keys under database/dup. Tag, a single start option,
//     takes the stable key only without /dup; Field is never renamed.
//
// The static counterpart is the semconvcheck analyzer (package
// semconv/analyzer, command cmd/semconvcheck).
package semconv

//go:generate go run ../cmd/semconvgen -registry registry.yaml -go tags_gen.go -md REFERENCE.md
