package config

import (
	"crypto/tls"
	"strings"
)

// Bounds of FLOWTRACE_OTLP_MAX_REQUEST_BYTES. The default stays below
// grpc-go's (and the OpenTelemetry Collector's) default 4 MiB receive limit.
const (
	defaultMaxRequestBytes = 3 << 20
	minMaxRequestBytes     = 64 << 10
	maxMaxRequestBytes     = 1 << 30
)

// logLevels are the OTEL_LOG_LEVEL values; "warning" is read as "warn".
var logLevels = []string{"error", "warn", "info", "debug"}

// transportFromEnv reads the settings of the OTLP transport and the SDK
// log that the rest of fromEnv does not: mTLS files, the request byte
// limit and OTEL_LOG_LEVEL.
func (st *state) transportFromEnv(env lookupFunc) {
	c := &st.cfg
	st.envString(env, &c.ClientCertificate, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
	st.envString(env, &c.ClientKey, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
	if (c.ClientCertificate == "") != (c.ClientKey == "") {
		st.warnf("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY must be set together; no client certificate is used")
		c.ClientCertificate, c.ClientKey = "", ""
	}
	st.envInt(env, &c.MaxRequestBytes, minMaxRequestBytes, maxMaxRequestBytes, "FLOWTRACE_OTLP_MAX_REQUEST_BYTES")
	if name, v, ok := st.env(env, "OTEL_LOG_LEVEL"); ok {
		if strings.EqualFold(v, "warning") {
			v = "warn"
		}
		if l, ok := enum(v, logLevels); ok {
			c.LogLevel = l
		} else {
			st.warnf("%s=%s: unknown value (known: %s); using %s", name, quote(v), strings.Join(logLevels, ", "), c.LogLevel)
		}
	}
}

// WithTLSConfig sets the base TLS configuration of the OTLP exporter, for
// mutual TLS or custom verification; it is cloned, and a CA file or client
// key pair named by OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE,
// CLIENT_CERTIFICATE and CLIENT_KEY is added to the clone. A nil config
// does nothing.
func WithTLSConfig(cfg *tls.Config) Option {
	if cfg == nil {
		return noop()
	}
	cfg = cfg.Clone()
	return override(func(st *state) { st.cfg.TLSConfig = cfg })
}

// WithLogLevel sets the SDK log's level: "error", "warn", "info" or
// "debug". It overrides OTEL_LOG_LEVEL; an unknown level is a warning.
func WithLogLevel(level string) Option {
	return override(func(st *state) {
		if l, ok := enum(level, logLevels); ok {
			st.cfg.LogLevel = l
			return
		}
		st.warnf("WithLogLevel(%s): unknown level (known: %s); using %s", quote(level), strings.Join(logLevels, ", "), st.cfg.LogLevel)
	})
}
