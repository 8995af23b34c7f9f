package flowtraceconnector

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/flowtrace/flowtrace/analysis/live"
	"github.com/flowtrace/flowtrace/analysis/slo"
)

// Config is the connector's configuration.
type Config struct {
	// SLOs is the path of an slos.yaml; empty for none.
	SLOs string `mapstructure:"slos"`
	// Idle is how long a trace receives no span before it is complete.
	Idle time.Duration `mapstructure:"idle"`
	// MaxHeld bounds the spans held while their traces assemble.
	MaxHeld int `mapstructure:"max_held"`
	// MaxSeries is the series limit of each metric family.
	MaxSeries int `mapstructure:"max_series"`
	// FlushInterval is how often the metrics are sent on.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
}

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	return &Config{Idle: live.DefaultIdle, MaxHeld: live.DefaultMaxHeld, MaxSeries: live.DefaultMaxSeries, FlushInterval: 15 * time.Second}
}

// Validate checks the configuration, reading the SLO file.
func (c *Config) Validate() error {
	var errs []error
	if c.Idle <= 0 {
		errs = append(errs, fmt.Errorf("idle must be positive (got %s)", c.Idle))
	}
	if c.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("flush_interval must be positive (got %s)", c.FlushInterval))
	}
	if c.MaxHeld <= 0 {
		errs = append(errs, fmt.Errorf("max_held must be positive (got %d)", c.MaxHeld))
	}
	if c.MaxSeries <= 0 {
		errs = append(errs, fmt.Errorf("max_series must be positive (got %d)", c.MaxSeries))
	}
	if c.SLOs != "" {
		if _, err := slo.LoadFile(c.SLOs); err != nil {
			errs = append(errs, fmt.Errorf("slos: %w", err))
		}
	}
	return errors.Join(errs...)
}
