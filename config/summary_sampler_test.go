package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSummaryWithSampler: the line flowtrace.Start prints names the sampler
// that runs, in place of the configured name and rate.
func TestSummaryWithSampler(t *testing.T) {
	c := Config{ServiceName: "inventory", Exporter: ExporterNone, Sampler: "parentbased_traceidratio", SamplerArg: "0.25", OperationRateLimit: 5}
	require.Contains(t, c.Summary(), " sampler=parentbased_traceidratio(0.25) operation_rate=5/s ")
	s := c.SummaryWithSampler("parentbased{ratelimited{5/s per operation, traceidratio{0.25}}}")
	require.Contains(t, s, ` sampler="parentbased{ratelimited{5/s per operation, traceidratio{0.25}}}" `, "quoted: it has spaces")
	require.NotContains(t, s, "operation_rate")
	require.Contains(t, c.SummaryWithSampler("always_on"), " sampler=always_on ")
}
