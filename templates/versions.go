package templates

// PlaceholderVersion is the version at which generated go.mod files require
// flowtrace unless [WithFlowtraceVersion] says otherwise: a valid
// pseudo-version that no proxy serves, resolved by a workspace (go.work) or
// a replace directive.
const PlaceholderVersion = "v0.0.0-00010101000000-000000000000"

// goVersion is the go directive of generated modules: flowtrace's own.
const goVersion = "1.26.0"

// versions are the versions generated modules require, equal to those in
// flowtrace's go.mod (a test keeps them in step), so that a workspace with
// flowtrace selects exactly what flowtrace is tested with.
type versions struct {
	GRPC        string // google.golang.org/grpc
	KafkaGo     string // github.com/segmentio/kafka-go
	OpenTracing string // github.com/opentracing/opentracing-go
}

var deps = versions{
	GRPC:        "v1.85.0",
	KafkaGo:     "v0.4.51",
	OpenTracing: "v1.2.0",
}
