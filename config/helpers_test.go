package config

import (
	"context"
	"io/fs"
	"runtime/debug"
	"testing/fstest"
)

// envMap is a fake environment.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func testBuildInfo() (*debug.BuildInfo, bool) {
	return &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/acme/inventory/v2", Version: "v2.3.4"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}, true
}

// hermetic makes Load independent of the machine: a fake environment, an
// empty (or given) file system, and fixed process facts. Later options win.
func hermetic(env map[string]string, fsys fs.FS, opts ...Option) []Option {
	if fsys == nil {
		fsys = fstest.MapFS{}
	}
	base := []Option{
		WithEnv(envMap(env)),
		WithFileSystem(fsys),
		withHostname(func() (string, error) { return "build-host", nil }),
		withExecutable(func() (string, error) { return "/usr/local/bin/inventory-server", nil }),
		withPID(4242),
		withBuildInfo(testBuildInfo),
	}
	return append(base, opts...)
}

func load(env map[string]string, fsys fs.FS, opts ...Option) Config {
	return Load(context.Background(), hermetic(env, fsys, opts...)...)
}

func attr(c Config, key string) (any, bool) {
	for _, a := range c.Resource {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}
