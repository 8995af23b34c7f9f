package config

import (
	"context"
	"runtime"
)

// detectHost reports host.name (from os.Hostname), os.type and host.arch.
// It reads no files; host.id comes from cloud detection when enabled.
func detectHost(_ context.Context, p *platform) ([]Attribute, error) {
	attrs := []Attribute{
		{Key: "os.type", Value: osType(runtime.GOOS)},
		{Key: "host.arch", Value: hostArch(runtime.GOARCH)},
	}
	h, err := p.hostname()
	if h = cleanValue(h, 255); h != "" {
		attrs = append(attrs, Attribute{Key: "host.name", Value: h})
	}
	return attrs, err
}

// osType maps GOOS to the semantic-convention os.type values.
func osType(goos string) string {
	switch goos {
	case "dragonfly":
		return "dragonflybsd"
	case "illumos":
		return "solaris"
	case "zos":
		return "z_os"
	}
	return goos
}

// hostArch maps GOARCH to the semantic-convention host.arch values.
func hostArch(goarch string) string {
	switch goarch {
	case "386":
		return "x86"
	case "arm":
		return "arm32"
	case "ppc64le":
		return "ppc64"
	}
	return goarch
}
