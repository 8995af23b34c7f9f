package config

import (
	"context"
	"strconv"
)

// detectBuild reports what the Go toolchain stamped into the binary:
// service.version (the main module's version, unless "(devel)"), and the
// version-control settings under the toolchain's own names vcs.revision,
// vcs.time and vcs.modified (bool), as `go version -m` prints them.
func detectBuild(_ context.Context, p *platform) ([]Attribute, error) {
	bi, ok := p.buildInfo()
	if !ok || bi == nil {
		return nil, nil
	}
	var attrs []Attribute
	if v := cleanValue(bi.Main.Version, 256); v != "" && v != "(devel)" {
		attrs = append(attrs, Attribute{Key: attrServiceVersion, Value: v})
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision", "vcs.time":
			if v := cleanValue(s.Value, 256); v != "" {
				attrs = append(attrs, Attribute{Key: s.Key, Value: v})
			}
		case "vcs.modified":
			if b, err := strconv.ParseBool(s.Value); err == nil {
				attrs = append(attrs, Attribute{Key: s.Key, Value: b})
			}
		}
	}
	return attrs, nil
}
