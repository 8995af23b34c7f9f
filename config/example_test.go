package config_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/flowtrace/flowtrace/config"
)

func ExampleLoad() {
	// In a service: cfg := config.Load(ctx, config.WithServiceName("checkout")).
	// Here the environment and the file system are fixed so the output is stable.
	env := map[string]string{
		"KUBERNETES_SERVICE_HOST":    "10.96.0.1",
		"HOST_IP":                    "10.0.0.7",
		"OTEL_TRACES_SAMPLER":        "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":    "0.25",
		"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20secret",
		"OTEL_PROPAGATORS":           "tracecontext,baggage,b3",
		"OTEL_BSP_MAX_QUEUE_SIZE":    "lots",
	}
	fsys := fstest.MapFS{
		"etc/podinfo/labels": {Data: []byte("app.kubernetes.io/name=\"checkout\"\n")},
	}
	cfg := config.Load(context.Background(),
		config.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }),
		config.WithFileSystem(fsys),
		config.WithOperationRateLimit(10),
	)
	fmt.Println(cfg.Summary())
	for _, w := range cfg.Warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// flowtrace: service=checkout (from k8s label app.kubernetes.io/name) exporter=otlp endpoint=http://10.0.0.7:4317 (default) protocol=grpc headers=1 sampler=parentbased_traceidratio(0.25) operation_rate=10/s propagators=tracecontext,baggage,b3 warnings=1
	// warning: OTEL_BSP_MAX_QUEUE_SIZE="lots": not an integer; using 2048
}
