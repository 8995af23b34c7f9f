//go:build race

package templates

// Under -race the generated services are built with -race too: their
// dependencies (gRPC, OpenTelemetry, kafka-go) then come from the build
// cache this test binary filled, instead of being compiled again without
// the race detector.
func init() { buildFlags = []string{"-race"} }
