package config

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaults(t *testing.T) {
	c := load(nil, nil)
	require.Empty(t, c.Warnings)
	require.False(t, c.Disabled)
	require.Equal(t, "inventory", c.ServiceName)
	require.Equal(t, "main module", c.ServiceNameSource)
	require.Equal(t, ExporterOTLP, c.Exporter)
	require.Equal(t, ProtocolGRPC, c.Protocol)
	require.Equal(t, "http://localhost:4317", c.Endpoint)
	require.True(t, c.EndpointImplicit)
	require.True(t, c.Insecure)
	require.Nil(t, c.Headers)
	require.Equal(t, 10*time.Second, c.Timeout)
	require.Equal(t, "none", c.Compression)
	require.Equal(t, "parentbased_always_on", c.Sampler)
	require.Equal(t, "", c.SamplerArg, "unset: the ratio samplers read it as 1")
	require.Zero(t, c.OperationRateLimit)
	require.Equal(t, 2000, c.MaxOperations)
	require.Equal(t, []string{"tracecontext", "baggage", "flowid"}, c.Propagators)
	require.Equal(t, 128, c.AttributeCountLimit)
	require.Equal(t, 4096, c.AttributeValueLengthLimit)
	require.Equal(t, 128, c.EventCountLimit)
	require.Equal(t, 128, c.LinkCountLimit)
	require.Equal(t, 5*time.Second, c.BatchScheduleDelay)
	require.Equal(t, 30*time.Second, c.BatchExportTimeout)
	require.Equal(t, 2048, c.MaxQueueSize)
	require.Equal(t, 512, c.MaxExportBatchSize)
	require.Equal(t, 8<<20, c.MaxQueueBytes)

	require.Equal(t, Attribute{Key: "service.name", Value: "inventory"}, c.Resource[0])
	for i := 2; i < len(c.Resource); i++ {
		require.Less(t, c.Resource[i-1].Key, c.Resource[i].Key, "resource sorted after service.name")
	}
	for key, want := range map[string]any{
		"telemetry.sdk.name":      "flowtrace",
		"telemetry.sdk.language":  "go",
		"telemetry.sdk.version":   SDKVersion,
		"host.name":               "build-host",
		"process.pid":             int64(4242),
		"process.executable.name": "inventory-server",
		"process.runtime.name":    "go",
		"service.version":         "v2.3.4",
		"vcs.revision":            "0123456789abcdef0123456789abcdef01234567",
		"vcs.time":                "2026-01-02T03:04:05Z",
		"vcs.modified":            true,
	} {
		got, ok := attr(c, key)
		require.True(t, ok, key)
		require.Equal(t, want, got, key)
	}
}

// TestPrecedence checks default < environment < option for each setting
// that has both.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		opt     Option
		get     func(Config) any
		def     any
		fromEnv any
		fromOpt any
	}{
		{
			name: "service name",
			env:  map[string]string{"OTEL_SERVICE_NAME": "env-svc"},
			opt:  WithServiceName("opt-svc"),
			get:  func(c Config) any { return c.ServiceName + "/" + c.ServiceNameSource },
			def:  "inventory/main module", fromEnv: "env-svc/OTEL_SERVICE_NAME", fromOpt: "opt-svc/WithServiceName",
		},
		{
			name: "service name from resource attributes",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=res-svc"},
			opt:  WithResourceAttributes(Attribute{Key: "service.name", Value: "opt-res"}),
			get:  func(c Config) any { return c.ServiceName + "/" + c.ServiceNameSource },
			def:  "inventory/main module", fromEnv: "res-svc/OTEL_RESOURCE_ATTRIBUTES", fromOpt: "opt-res/WithResourceAttributes",
		},
		{
			name: "exporter",
			env:  map[string]string{"OTEL_TRACES_EXPORTER": "console"},
			opt:  WithExporter("none"),
			get:  func(c Config) any { return c.Exporter },
			def:  "otlp", fromEnv: "console", fromOpt: "none",
		},
		{
			name: "protocol, generic variable",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
			opt:  WithProtocol("grpc"),
			get:  func(c Config) any { return c.Protocol + " " + c.Endpoint },
			def:  "grpc http://localhost:4317", fromEnv: "http/protobuf http://localhost:4318/v1/traces", fromOpt: "grpc http://localhost:4317",
		},
		{
			name: "protocol, signal variable wins",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "HTTP/protobuf"},
			opt:  WithProtocol("grpc"),
			get:  func(c Config) any { return c.Protocol },
			def:  "grpc", fromEnv: "http/protobuf", fromOpt: "grpc",
		},
		{
			name: "endpoint, generic grpc",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4317"},
			opt:  WithEndpoint("http://opt:4317"),
			get:  func(c Config) any { return fmt.Sprint(c.Endpoint, " ", c.Insecure, " ", c.EndpointImplicit) },
			def:  "http://localhost:4317 true true", fromEnv: "https://collector:4317 false false", fromOpt: "http://opt:4317 true false",
		},
		{
			name: "endpoint, generic http appends /v1/traces",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318/otlp/", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
			opt:  WithEndpoint("https://opt:4318/custom"),
			get:  func(c Config) any { return c.Endpoint },
			def:  "http://localhost:4317", fromEnv: "https://collector:4318/otlp/v1/traces", fromOpt: "https://opt:4318/custom",
		},
		{
			name: "endpoint, signal variable used as is and wins",
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://generic:4318",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4318/x",
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
			},
			opt: WithEndpoint("http://opt:4318/y"),
			get: func(c Config) any { return c.Endpoint },
			def: "http://localhost:4317", fromEnv: "http://traces:4318/x", fromOpt: "http://opt:4318/y",
		},
		{
			name: "headers, signal variable wins",
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_HEADERS":        "x-generic=1",
				"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "Authorization=Bearer%20abc,x-tenant = t1 ",
			},
			opt: WithHeaders(map[string]string{"X-Opt": "o"}),
			get: func(c Config) any { return c.Headers },
			def: map[string]string(nil), fromEnv: map[string]string{"authorization": "Bearer abc", "x-tenant": "t1"}, fromOpt: map[string]string{"x-opt": "o"},
		},
		{
			name: "sampler",
			env:  map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
			opt:  WithSampler("parentbased_traceidratio", 0.5),
			get:  func(c Config) any { return fmt.Sprint(c.Sampler, " ", c.SamplerArg) },
			def:  "parentbased_always_on ", fromEnv: "traceidratio 0.25", fromOpt: "parentbased_traceidratio 0.5",
		},
		{
			name: "operation rate",
			env:  map[string]string{"FLOWTRACE_SAMPLER_OPERATION_RATE": "2.5"},
			opt:  WithOperationRateLimit(10),
			get:  func(c Config) any { return c.OperationRateLimit },
			def:  0.0, fromEnv: 2.5, fromOpt: 10.0,
		},
		{
			name: "propagators",
			env:  map[string]string{"OTEL_PROPAGATORS": "b3, jaeger,b3"},
			opt:  WithPropagators("none"),
			get:  func(c Config) any { return c.Propagators },
			def:  []string{"tracecontext", "baggage", "flowid"}, fromEnv: []string{"b3", "jaeger", "b3"}, fromOpt: []string{"none"},
		},
		{
			name: "console file",
			env:  map[string]string{"FLOWTRACE_CONSOLE_FILE": "/tmp/env.json"},
			opt:  WithConsoleFile("/tmp/opt.json"),
			get:  func(c Config) any { return c.ConsoleFile },
			def:  "", fromEnv: "/tmp/env.json", fromOpt: "/tmp/opt.json",
		},
		{
			name: "resource attribute",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod%2Feu,host.name=env-host"},
			opt:  WithResourceAttributes(Attribute{Key: "host.name", Value: "opt-host"}),
			get: func(c Config) any {
				v, _ := attr(c, "host.name")
				return v
			},
			def: "build-host", fromEnv: "env-host", fromOpt: "opt-host",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(nil, nil)
			require.Equal(t, tt.def, tt.get(c), "default")
			c = load(tt.env, nil)
			require.Empty(t, c.Warnings)
			require.Equal(t, tt.fromEnv, tt.get(c), "environment")
			c = load(tt.env, nil, tt.opt)
			require.Empty(t, c.Warnings)
			require.Equal(t, tt.fromOpt, tt.get(c), "option")
		})
	}
}

// TestEnvOnly checks the settings that have no option.
func TestEnvOnly(t *testing.T) {
	c := load(map[string]string{
		"OTEL_SDK_DISABLED":                      "TRUE",
		"OTEL_EXPORTER_OTLP_TIMEOUT":             "2500",
		"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION":  "gzip",
		"OTEL_EXPORTER_OTLP_CERTIFICATE":         "/etc/ca.pem",
		"FLOWTRACE_SAMPLER_MAX_OPERATIONS":       "50",
		"OTEL_ATTRIBUTE_COUNT_LIMIT":             "64",
		"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "100",
		"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT":      "200",
		"OTEL_SPAN_EVENT_COUNT_LIMIT":            "0",
		"OTEL_SPAN_LINK_COUNT_LIMIT":             "7",
		"OTEL_BSP_SCHEDULE_DELAY":                "1000",
		"OTEL_BSP_EXPORT_TIMEOUT":                "3000",
		"OTEL_BSP_MAX_QUEUE_SIZE":                "100",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE":         "10",
		"FLOWTRACE_BSP_MAX_QUEUE_BYTES":          "65536",
		"OTEL_EXPORTER_OTLP_INSECURE":            "true",
		"OTEL_EXPORTER_OTLP_ENDPOINT":            "http://c:4317",
	}, nil)
	require.Empty(t, c.Warnings)
	require.True(t, c.Disabled)
	require.Equal(t, 2500*time.Millisecond, c.Timeout)
	require.Equal(t, "gzip", c.Compression)
	require.Equal(t, "/etc/ca.pem", c.Certificate)
	require.Equal(t, 50, c.MaxOperations)
	require.Equal(t, 64, c.AttributeCountLimit)
	require.Equal(t, 100, c.AttributeValueLengthLimit, "span-specific variable wins")
	require.Equal(t, 0, c.EventCountLimit)
	require.Equal(t, 7, c.LinkCountLimit)
	require.Equal(t, time.Second, c.BatchScheduleDelay)
	require.Equal(t, 3*time.Second, c.BatchExportTimeout)
	require.Equal(t, 100, c.MaxQueueSize)
	require.Equal(t, 10, c.MaxExportBatchSize)
	require.Equal(t, 65536, c.MaxQueueBytes)
	require.True(t, c.Insecure)
	require.Contains(t, c.Summary(), "disabled by OTEL_SDK_DISABLED")
}

// TestSetenv goes through the real process environment once.
func TestSetenv(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "from-setenv")
	t.Setenv("OTEL_TRACES_SAMPLER", "always_off")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	c := Load(context.Background(), WithFileSystem(fstest.MapFS{}), WithSampler("always_on", 0))
	require.Equal(t, "from-setenv", c.ServiceName)
	require.Equal(t, "OTEL_SERVICE_NAME", c.ServiceNameSource)
	require.Equal(t, "always_on", c.Sampler)
}

// TestMalformed: each bad value gives exactly one warning that names the
// variable, and the default (or earlier value) is kept.
func TestMalformed(t *testing.T) {
	long := strings.Repeat("x", maxEnvLen+1)
	tests := []struct {
		name     string
		env      map[string]string
		opts     []Option
		contains []string
		check    func(t *testing.T, c Config)
	}{
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, nil,
			[]string{"OTEL_TRACES_EXPORTER", `"zipkin"`, "using otlp"}, func(t *testing.T, c Config) { require.Equal(t, "otlp", c.Exporter) }},
		{"unsupported protocol", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_PROTOCOL", "using grpc"}, func(t *testing.T, c Config) { require.Equal(t, "grpc", c.Protocol) }},
		{"negative queue size", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "-5"}, nil,
			[]string{"OTEL_BSP_MAX_QUEUE_SIZE", `"-5"`, "using 2048"}, func(t *testing.T, c Config) { require.Equal(t, 2048, c.MaxQueueSize) }},
		{"huge integer", map[string]string{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "99999999999999999999999"}, nil,
			[]string{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "using 128"}, func(t *testing.T, c Config) { require.Equal(t, 128, c.AttributeCountLimit) }},
		{"huge but valid integer out of range", map[string]string{"FLOWTRACE_BSP_MAX_QUEUE_BYTES": "1099511627776"}, nil,
			[]string{"FLOWTRACE_BSP_MAX_QUEUE_BYTES", "out of range"}, func(t *testing.T, c Config) { require.Equal(t, 8<<20, c.MaxQueueBytes) }},
		{"duration with unit", map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "5s"}, nil,
			[]string{"OTEL_BSP_SCHEDULE_DELAY", "using 5000"}, func(t *testing.T, c Config) { require.Equal(t, 5*time.Second, c.BatchScheduleDelay) }},
		{"timeout negative", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "-1"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "using 10000"}, func(t *testing.T, c Config) { require.Equal(t, 10*time.Second, c.Timeout) }},
		{"bool yes", map[string]string{"OTEL_SDK_DISABLED": "yes"}, nil,
			[]string{"OTEL_SDK_DISABLED", `"yes"`, "using false"}, func(t *testing.T, c Config) { require.False(t, c.Disabled) }},
		{"http endpoint without scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_ENDPOINT", "scheme", "http/protobuf", "default endpoint"}, func(t *testing.T, c Config) {
				require.Equal(t, "http://localhost:4318/v1/traces", c.Endpoint)
				require.True(t, c.EndpointImplicit)
			}},
		{"endpoint host without port", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_ENDPOINT", "scheme", "default endpoint"}, func(t *testing.T, c Config) {
				require.Equal(t, "http://localhost:4317", c.Endpoint)
			}},
		{"endpoint bad port", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:99999"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "port"}, func(t *testing.T, c Config) { require.True(t, c.EndpointImplicit) }},
		{"endpoint credentials are redacted", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://user:hunter2@c/?token=s3cret"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_ENDPOINT"}, func(t *testing.T, c Config) {
				require.NotContains(t, c.Warnings[0], "hunter2")
				require.NotContains(t, c.Warnings[0], "s3cret")
			}},
		{"malformed header not shown", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "api-key=ok,Bearer s3cret,x=%zz-s3cret"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_HEADERS", "dropped 2"}, func(t *testing.T, c Config) {
				require.NotContains(t, c.Warnings[0], "s3cret")
				require.Equal(t, map[string]string{"api-key": "ok"}, c.Headers)
			}},
		{"header with newline", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "x=a%0D%0Ainjected: 1"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_HEADERS", "dropped 1"}, func(t *testing.T, c Config) { require.Nil(t, c.Headers) }},
		{"malformed resource attributes", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=a,broken,x=%ff%zz"}, nil,
			[]string{"OTEL_RESOURCE_ATTRIBUTES", "dropped 2", `"broken"`}, func(t *testing.T, c Config) {
				v, ok := attr(c, "team")
				require.True(t, ok)
				require.Equal(t, "a", v)
			}},
		{"value too long", map[string]string{"OTEL_SERVICE_NAME": long}, nil,
			[]string{"OTEL_SERVICE_NAME", "too long"}, func(t *testing.T, c Config) { require.Equal(t, "inventory", c.ServiceName) }},
		{"batch larger than queue", map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "500"}, nil,
			[]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "using 100"}, func(t *testing.T, c Config) { require.Equal(t, 100, c.MaxExportBatchSize) }},
		{"insecure with https", map[string]string{"OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4317"}, nil,
			[]string{"OTEL_EXPORTER_OTLP_INSECURE=true ignored", "TLS"}, func(t *testing.T, c Config) { require.False(t, c.Insecure) }},
		{"HOST_IP not an IP", map[string]string{"KUBERNETES_SERVICE_HOST": "10.96.0.1", "HOST_IP": "node-7"}, nil,
			[]string{"HOST_IP", `"node-7"`}, func(t *testing.T, c Config) { require.Equal(t, "http://localhost:4317", c.Endpoint) }},
		{"labels file not absolute", map[string]string{"FLOWTRACE_K8S_LABELS_FILE": "../etc/labels"}, nil,
			[]string{"FLOWTRACE_K8S_LABELS_FILE"}, nil},
		{"unknown option values", nil, []Option{WithExporter("jaeger")},
			[]string{"WithExporter", `"jaeger"`, "using otlp"}, nil},
		{"option http endpoint without scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, []Option{WithEndpoint("opt:4318")},
			[]string{"WithEndpoint", "endpoint from OTEL_EXPORTER_OTLP_ENDPOINT"}, func(t *testing.T, c Config) { require.Equal(t, "http://env:4318/v1/traces", c.Endpoint) }},
		{"option endpoint not host:port", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4317"}, []Option{WithEndpoint("opt/4317")},
			[]string{"WithEndpoint"}, func(t *testing.T, c Config) { require.Equal(t, "http://env:4317", c.Endpoint) }},
		{"option rate NaN", nil, []Option{WithOperationRateLimit(math.NaN())}, []string{"WithOperationRateLimit"}, nil},
		{"option bad header", nil, []Option{WithHeaders(map[string]string{"bad key": "s3cret", "ok": "1"})},
			[]string{"WithHeaders", "dropped 1"}, func(t *testing.T, c Config) {
				require.NotContains(t, c.Warnings[0], "s3cret")
				require.Equal(t, map[string]string{"ok": "1"}, c.Headers)
			}},
		{"option bad attribute type", nil, []Option{WithResourceAttributes(Attribute{Key: "k", Value: []int{1}})},
			[]string{"WithResourceAttributes", `"k"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := load(tt.env, nil, tt.opts...)
			require.Len(t, c.Warnings, 1, "warnings: %q", c.Warnings)
			for _, s := range tt.contains {
				require.Contains(t, c.Warnings[0], s)
			}
			require.NotContains(t, c.Warnings[0], "\n")
			require.Less(t, len(c.Warnings[0]), 400)
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestPropagatorNamesPassThrough: config does not judge propagator names;
// the propagation registry resolves them (flowtrace.Start calls
// propagation.Select), so a name the service registered itself is
// reachable and "none" keeps its meaning. Config used to filter names
// against a hard-coded list and to drop "none" when combined with others.
func TestPropagatorNamesPassThrough(t *testing.T) {
	for _, tc := range []struct {
		env  string
		opts []Option
		want []string
	}{
		{env: "none", want: []string{"none"}},
		{env: " tracecontext , acme ,, B3 ", want: []string{"tracecontext", "acme", "B3"}},
		{env: "tracecontext,none,b3", want: []string{"tracecontext", "none", "b3"}},
		{env: "xray", want: []string{"xray"}},
		{env: " , ", want: []string{"tracecontext", "baggage", "flowid"}},
		{env: "b3", opts: []Option{WithPropagators("acme", " ")}, want: []string{"acme"}},
		{env: "b3", opts: []Option{WithPropagators(" ")}, want: []string{"b3"}},
	} {
		c := load(map[string]string{"OTEL_PROPAGATORS": tc.env}, nil, tc.opts...)
		require.Empty(t, c.Warnings, tc.env)
		require.Equal(t, tc.want, c.Propagators, tc.env)
	}
}

func TestEmptyAndNilOptionsAreIgnored(t *testing.T) {
	c := load(map[string]string{"OTEL_SERVICE_NAME": "env"}, nil,
		nil, WithServiceName(" "), WithExporter(""), WithEndpoint(""), WithProtocol(""), WithHeaders(nil),
		WithSampler("", 0.5), WithPropagators(), WithResourceAttributes(), WithConsoleFile(""),
		WithEnv(nil), WithFileSystem(nil), WithCloudMetadataURLs(CloudMetadataURLs{}))
	require.Empty(t, c.Warnings)
	require.Equal(t, "env", c.ServiceName)
	require.Equal(t, load(map[string]string{"OTEL_SERVICE_NAME": "env"}, nil), c)
}

func TestOptionsDoNotAlias(t *testing.T) {
	h := map[string]string{"k": "v"}
	names := []string{"b3"}
	opts := []Option{WithHeaders(h), WithPropagators(names...)}
	h["k"] = "changed"
	names[0] = "jaeger"
	c := load(nil, nil, opts...)
	require.Equal(t, "v", c.Headers["k"])
	require.Equal(t, []string{"b3"}, c.Propagators)
	c.Propagators[0] = "x"
	require.Equal(t, []string{"tracecontext", "baggage", "flowid"}, load(nil, nil).Propagators)
}

func TestServiceNameWithServiceNameBeatsResourceOption(t *testing.T) {
	c := load(nil, nil, WithServiceName("named"), WithResourceAttributes(Attribute{Key: "service.name", Value: "attr"}))
	require.Equal(t, "named", c.ServiceName)
	require.Equal(t, Attribute{Key: "service.name", Value: "named"}, c.Resource[0])
}

func TestServiceNameFallbacks(t *testing.T) {
	noBuild := withBuildInfo(func() (*debug.BuildInfo, bool) { return nil, false })
	c := load(nil, nil, noBuild)
	require.Equal(t, "inventory-server", c.ServiceName)
	require.Equal(t, "executable", c.ServiceNameSource)

	c = load(nil, nil, noBuild, withExecutable(func() (string, error) { return "", fmt.Errorf("no exe") }))
	require.Equal(t, "unknown_service:go", c.ServiceName)
	require.Equal(t, "default", c.ServiceNameSource)
}

func TestSummary(t *testing.T) {
	c := load(map[string]string{
		"OTEL_EXPORTER_OTLP_HEADERS":  "authorization=Bearer%20s3cret",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:pw-s3cret@collector.example:4317/?key=s3cret",
		"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":     "0.25",
		"OTEL_SERVICE_NAME":           "evil\nname\x1b[31m",
	}, nil, WithOperationRateLimit(5))
	s := c.Summary()
	require.NotContains(t, s, "s3cret")
	require.NotContains(t, s, "\n")
	require.NotContains(t, s, "\x1b")
	require.Contains(t, s, `service="evil\nname\x1b[31m" (from OTEL_SERVICE_NAME)`)
	require.Contains(t, s, "exporter=otlp endpoint=https://REDACTED@collector.example:4317/?REDACTED protocol=grpc headers=1")
	require.Contains(t, s, "sampler=parentbased_traceidratio(0.25) operation_rate=5/s propagators=tracecontext,baggage,flowid")
	for _, p := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		require.NotContains(t, p, "s3cret")
	}

	c = load(map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_PROPAGATORS": "none"}, nil)
	require.Equal(t, "flowtrace: service=inventory (from main module) exporter=console file=stderr sampler=parentbased_always_on propagators=none", c.Summary())
}

func TestLoadRecoversFromPanickingLookup(t *testing.T) {
	c := Load(context.Background(), WithEnv(func(string) (string, bool) { panic("lookup broke") }))
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "lookup broke")
	require.Equal(t, "unknown_service:go", c.ServiceName)
	require.Equal(t, "http://localhost:4317", c.Endpoint)
	require.Equal(t, Attribute{Key: "service.name", Value: "unknown_service:go"}, c.Resource[0])
	require.Equal(t, 2048, c.MaxQueueSize)
}

func TestNilContext(t *testing.T) {
	//lint:ignore SA1012 Load must survive a caller's nil context.
	c := Load(nil, hermetic(nil, nil)...)
	require.Equal(t, "inventory", c.ServiceName)
}

func TestWithInsecure(t *testing.T) {
	c := load(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4317"}, nil, WithInsecure())
	require.False(t, c.Insecure, "https keeps TLS")
	require.Len(t, c.Warnings, 1)
	require.Contains(t, c.Warnings[0], "WithInsecure() ignored")

	c = load(nil, nil, WithInsecure(), WithEndpoint("http://c:4317"))
	require.Empty(t, c.Warnings)
	require.True(t, c.Insecure)
}

func TestResourceAttributeTypes(t *testing.T) {
	c := load(nil, nil, WithResourceAttributes(
		Attribute{Key: "s", Value: "x"}, Attribute{Key: "b", Value: true}, Attribute{Key: "i", Value: 3},
		Attribute{Key: "i32", Value: int32(4)}, Attribute{Key: "u32", Value: uint32(5)}, Attribute{Key: "i64", Value: int64(6)},
		Attribute{Key: "f32", Value: float32(0.5)}, Attribute{Key: "f64", Value: 1.5},
		Attribute{Key: "bad utf8", Value: "\xff"}, Attribute{Key: "badutf8", Value: "\xff"},
		Attribute{Key: "service.name", Value: 7},
	))
	require.Len(t, c.Warnings, 3, "%q", c.Warnings)
	m := attrMap(c.Resource)
	for k, v := range map[string]any{"s": "x", "b": true, "i": int64(3), "i32": int64(4), "u32": int64(5), "i64": int64(6), "f32": 0.5, "f64": 1.5} {
		require.Equal(t, v, m[k], k)
	}
	require.Equal(t, "inventory", c.ServiceName)
}

func TestSemconvPlatformNames(t *testing.T) {
	for in, want := range map[string]string{"linux": "linux", "dragonfly": "dragonflybsd", "illumos": "solaris", "zos": "z_os"} {
		require.Equal(t, want, osType(in))
	}
	for in, want := range map[string]string{"amd64": "amd64", "386": "x86", "arm": "arm32", "ppc64le": "ppc64", "arm64": "arm64"} {
		require.Equal(t, want, hostArch(in))
	}
}

// TestExtension: Load ignores what an Extension carries (flowtrace.Start's
// own options), and Extensions gives the values back in order, the
// deprecated WithoutGlobalTracer among them.
func TestExtension(t *testing.T) {
	t.Parallel()
	opts := []Option{WithServiceName("a"), Extension(1), WithoutGlobalTracer(), Extension("two")}
	require.Equal(t, load(nil, nil, WithServiceName("a")).Summary(), load(nil, nil, opts...).Summary())
	got := Extensions(opts)
	require.Len(t, got, 3)
	require.Equal(t, 1, got[0])
	require.Equal(t, "two", got[2])
	g, ok := got[1].(interface{ GlobalTracer() bool })
	require.True(t, ok)
	require.False(t, g.GlobalTracer())
	require.Empty(t, Extensions([]Option{WithServiceName("b"), nil}))
}
