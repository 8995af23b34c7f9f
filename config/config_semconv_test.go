package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSemconvSettings(t *testing.T) {
	c := load(map[string]string{"FLOWTRACE_SEMCONV_MODE": "strict", "FLOWTRACE_SEMCONV_REGISTRY": "/etc/org/tags.yaml"}, nil)
	require.Equal(t, "strict", c.SemconvMode)
	require.Equal(t, "/etc/org/tags.yaml", c.SemconvRegistry)
	require.Empty(t, c.Warnings)

	c = load(map[string]string{"FLOWTRACE_SEMCONV_MODE": "loud"}, nil)
	require.Equal(t, "off", c.SemconvMode, "a bad mode keeps the default")
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "FLOWTRACE_SEMCONV_MODE")

	require.Equal(t, "off", load(nil, nil).SemconvMode)
}
