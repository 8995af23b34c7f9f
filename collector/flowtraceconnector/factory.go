package flowtraceconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

// Type is the connector's type in a collector configuration.
var Type = component.MustNewType("flowtrace")

// NewFactory returns the connector's factory: traces in, metrics out.
func NewFactory() connector.Factory {
	return connector.NewFactory(Type, createDefaultConfig,
		connector.WithTracesToMetrics(createTracesToMetrics, component.StabilityLevelAlpha))
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return newConnector(set, cfg.(*Config), next)
}
