package config

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		env, want string
		warn      bool
	}{
		{"", "info", false}, {"debug", "debug", false}, {"ERROR", "error", false},
		{"warning", "warn", false}, {"warn", "warn", false}, {"verbose", "info", true}, {"0", "info", true},
	} {
		c := load(map[string]string{"OTEL_LOG_LEVEL": tc.env}, nil)
		require.Equal(t, tc.want, c.LogLevel, tc.env)
		require.Equal(t, tc.warn, strings.Contains(strings.Join(c.Warnings, "\n"), "OTEL_LOG_LEVEL"), tc.env)
	}
	require.Equal(t, "debug", load(map[string]string{"OTEL_LOG_LEVEL": "error"}, nil, WithLogLevel("debug")).LogLevel, "the option wins")
	c := load(nil, nil, WithLogLevel("loud"))
	require.Equal(t, "info", c.LogLevel)
	require.NotEmpty(t, c.Warnings)
}

func TestTransportSettings(t *testing.T) {
	c := load(map[string]string{
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE":        "/generic.crt",
		"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "/traces.crt",
		"OTEL_EXPORTER_OTLP_CLIENT_KEY":                "/generic.key",
	}, nil)
	require.Equal(t, "/traces.crt", c.ClientCertificate, "the signal-specific name wins")
	require.Equal(t, "/generic.key", c.ClientKey)
	require.Empty(t, c.Warnings)

	c = load(map[string]string{"OTEL_EXPORTER_OTLP_CLIENT_KEY": "/only.key"}, nil)
	require.Empty(t, c.ClientKey, "a key without a certificate is not used")
	require.Contains(t, strings.Join(c.Warnings, "\n"), "together")

	require.Equal(t, defaultMaxRequestBytes, load(nil, nil).MaxRequestBytes)
	require.Less(t, defaultMaxRequestBytes, 4<<20, "below grpc-go's default receive limit")
	require.Equal(t, 1<<20, load(map[string]string{"FLOWTRACE_OTLP_MAX_REQUEST_BYTES": "1048576"}, nil).MaxRequestBytes)
	c = load(map[string]string{"FLOWTRACE_OTLP_MAX_REQUEST_BYTES": "100"}, nil)
	require.Equal(t, defaultMaxRequestBytes, c.MaxRequestBytes)
	require.NotEmpty(t, c.Warnings)

	base := &tls.Config{ServerName: "collector.internal", MinVersion: tls.VersionTLS13}
	c = load(nil, nil, WithTLSConfig(base))
	require.NotNil(t, c.TLSConfig)
	require.NotSame(t, base, c.TLSConfig, "cloned")
	require.Equal(t, "collector.internal", c.TLSConfig.ServerName)
	require.Nil(t, load(nil, nil, WithTLSConfig(nil)).TLSConfig)
}
