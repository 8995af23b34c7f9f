package config

import (
	"context"
	"path/filepath"
	"runtime"
)

// detectProcess reports process.pid, process.executable.name and the Go
// runtime. Command-line arguments are never recorded: they often carry
// secrets.
func detectProcess(_ context.Context, p *platform) ([]Attribute, error) {
	attrs := []Attribute{
		{Key: "process.pid", Value: int64(p.pid)},
		{Key: "process.runtime.name", Value: "go"},
		{Key: "process.runtime.version", Value: runtime.Version()},
	}
	exe, err := p.executable()
	if err == nil {
		if name := cleanValue(filepath.Base(exe), 255); name != "" && name != "." {
			attrs = append(attrs, Attribute{Key: "process.executable.name", Value: name})
		}
	}
	return attrs, err
}
