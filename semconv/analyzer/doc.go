// Package analyzer is semconvcheck, a go/analysis pass that checks span tag
// keys and values written as constants against the semantic-conventions
// registry (package semconv).
//
// It reports:
//   - a constant key passed to a SetTag method (opentracing.Span.SetTag and
//     any method of the same shape), to opentracing.Tag{Key: ...}, to
//     LogKV, or to the field constructors of opentracing-go/log
//     (log.String, log.Int, ...) that is not in the registry, suggesting the
//     closest registered key (with a suggested fix);
//   - a value of the wrong type for a registered key (a constant, or an
//     expression of a basic type), e.g. SetTag("http.status_code", "200");
//   - a constant value outside the key's allowed values or pattern;
//   - a constant legacy key whose category OTEL_SEMCONV_STABILITY_OPT_IN
//     (or the -opt-in flag) moves to OpenTelemetry's stable names only,
//     naming the stable key of the one mapping (package semconv/stability),
//     with a suggested fix when it is a plain rename (http.method to
//     http.request.method); with /dup the legacy key is still emitted and
//     is not reported.
//
// Keys and values that are not constants are not checked: the run-time
// enforcer (semconv.NewEnforcer) covers them. The registry is the embedded
// default, or the file named by the -registry flag or
// FLOWTRACE_SEMCONV_REGISTRY.
package analyzer
