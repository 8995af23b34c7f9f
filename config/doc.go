// Package config resolves flowtrace's configuration and describes the
// platform the service runs on.
//
// [Load] applies, in this fixed order: defaults, then environment variables,
// then [Option] values, then platform detection (which only fills what is
// still unset), then validation. It never fails: a malformed value keeps the
// default and adds one line to Config.Warnings naming the variable or option,
// the bad value (truncated and escaped; never for headers) and the fallback.
// Empty variables count as unset; values longer than 16 KiB are ignored. For
// the OTLP exporter settings the OTEL_EXPORTER_OTLP_TRACES_* variable wins
// over the generic OTEL_EXPORTER_OTLP_* one. [Config.Summary] is the one-line
// start-up description; it never contains header values or URL credentials.
// flowtrace.Start prints [Config.SummaryWithSampler], which names the
// sampler the tracer runs.
//
// # Environment variables
//
//	Variable                                 Default                     Meaning
//	OTEL_SDK_DISABLED                        false                       true: no-op tracing that passes callers' context through
//	OTEL_SERVICE_NAME                        detected (see below)        service.name, ≤255 bytes
//	OTEL_RESOURCE_ATTRIBUTES                 -                           k=v,k2=v2 (percent-encoded) resource attributes; ≤128
//	OTEL_TRACES_EXPORTER                     otlp                        otlp, console or none
//	OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL     grpc (*)                    grpc or http/protobuf
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT       -                           full URL, used as is
//	OTEL_EXPORTER_OTLP_ENDPOINT              node agent (see below)      base URL; http/protobuf appends /v1/traces
//	OTEL_EXPORTER_OTLP_[TRACES_]INSECURE     false                       see "TLS" below
//	OTEL_EXPORTER_OTLP_[TRACES_]HEADERS      -                           k=v,k2=v2 percent-encoded; secret, never printed
//	OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT      10000                       export request timeout, ms; 0: no per-request limit
//	OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION  none                        gzip or none
//	OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE  -                           PEM file of trusted CAs
//	OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE -                     PEM client certificate for mutual TLS (with CLIENT_KEY)
//	OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_KEY   -                           PEM private key of the client certificate
//	FLOWTRACE_OTLP_MAX_REQUEST_BYTES         3145728                     uncompressed bytes per export request, [65536, 1073741824]; batches are split to fit
//	OTEL_LOG_LEVEL                           info                        error, warn, info or debug (debug: one line per export)
//	FLOWTRACE_CONSOLE_FILE                   stderr                      file the console exporter writes to
//	OTEL_TRACES_SAMPLER                      parentbased_always_on       name passed through; mapped (and judged) by flowtrace.Start
//	OTEL_TRACES_SAMPLER_ARG                  -                           passed through as a string; the ratio samplers read a ratio in [0,1], 1 if unset; jaeger_remote reads endpoint=…,pollingIntervalMs=…,initialSamplingRate=…
//	FLOWTRACE_SAMPLER_OPERATION_RATE         0 (unlimited)               max new traces/s per operation name, [0, 1e6]
//	FLOWTRACE_SAMPLER_MAX_OPERATIONS         2000                        bound on the per-operation table, [1, 1048576]
//	OTEL_PROPAGATORS                         tracecontext,baggage,flowid names passed through; resolved by propagation.Select
//	OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT          128                         attributes per span, [0, 65536], 0 keeps none; fallback OTEL_ATTRIBUTE_COUNT_LIMIT
//	OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT   4096 (**)                   bytes per string value, [1, 1048576]; fallback OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT
//	OTEL_SPAN_EVENT_COUNT_LIMIT              128                         events per span, [0, 65536], 0 keeps none
//	OTEL_SPAN_LINK_COUNT_LIMIT               128                         links per span, [0, 65536], 0 keeps none
//	OTEL_BSP_SCHEDULE_DELAY                  5000                        ms a span may wait in the queue, [1, 3600000]
//	OTEL_BSP_EXPORT_TIMEOUT                  30000                       ms for one batch export, [1, 3600000]
//	OTEL_BSP_MAX_QUEUE_SIZE                  2048                        queue bound in spans, [1, 1048576]
//	OTEL_BSP_MAX_EXPORT_BATCH_SIZE           512                         spans per batch, [1, 1048576], at most the queue size
//	FLOWTRACE_BSP_MAX_QUEUE_BYTES            8388608                     queue bound in bytes, [1024, 1073741824]
//	FLOWTRACE_CLOUD_METADATA                 false                       true: ask AWS ECS/EC2 and GCE metadata services (≤1 s)
//	FLOWTRACE_K8S_LABELS_FILE                /etc/podinfo/labels         downward-API labels file (absolute path)
//	FLOWTRACE_SEMCONV_MODE                   off                         off, warn or strict: check span tags against the tag registry (package semconv)
//	FLOWTRACE_SEMCONV_REGISTRY               built in                    path of an org tag registry (YAML) replacing the built-in one
//
// (*) Deviation from OpenTelemetry, whose default is http/protobuf: node-local
// agents listen for gRPC on 4317. (**) OpenTelemetry's default is unlimited;
// flowtrace bounds values for safety.
//
// Read from the platform (not settings): KUBERNETES_SERVICE_HOST (on
// Kubernetes when set), POD_NAME, POD_NAMESPACE, POD_UID, NODE_NAME, HOST_IP
// and NODE_IP (set them with the downward API), ECS_CONTAINER_METADATA_URI_V4.
//
// # Endpoint and TLS
//
// With no endpoint configured, the exporter sends to the node-local agent:
// on Kubernetes http://$HOST_IP:4317 (grpc) or http://$HOST_IP:4318/v1/traces
// (http/protobuf), with NODE_IP as the second choice; elsewhere, and when
// neither holds an IP address, localhost with those ports. Endpoints must be
// http:// or https:// URLs (anything else is a warning and the default is
// used), except that for gRPC a bare host:port (127.0.0.1:4317,
// collector:4317, [::1]:4317) is accepted, as the OTLP specification says
// it should be. As OpenTelemetry specifies, the scheme decides TLS: http is
// plaintext, https is TLS; OTEL_EXPORTER_OTLP_INSECURE=true or [WithInsecure]
// with an https endpoint is ignored with a warning. A gRPC endpoint without
// a scheme is TLS unless OTEL_EXPORTER_OTLP_[TRACES_]INSECURE=true or
// [WithInsecure] asks for plaintext; the start-up line says which
// ("(no scheme given: TLS, ...)"). With http/protobuf a bare host:port is a
// warning, and the previous endpoint (or the default) is used. Default
// endpoints are plaintext.
//
// # Timeouts
//
// OTEL_EXPORTER_OTLP_TIMEOUT bounds one export request. 0 means no
// per-request limit, as OpenTelemetry specifies; OTEL_BSP_EXPORT_TIMEOUT
// still bounds each batch export (retries included), so a collector that
// never answers costs the export worker at most that long per batch.
//
// # Service name
//
// [WithServiceName], service.name in [WithResourceAttributes],
// OTEL_SERVICE_NAME, service.name in OTEL_RESOURCE_ATTRIBUTES; with none of
// them: the downward-API labels app.kubernetes.io/name, app, application;
// the workload name derived from the pod name (checkout-7d9f8b6c5d-x2x4z ->
// checkout, db-0 -> db, agent-x2x4z -> agent); the last element of the main
// module path (major version suffix skipped); the executable name;
// "unknown_service:go". Config.ServiceNameSource records which one won.
// A configured name longer than 255 bytes (a 10 KB OTEL_SERVICE_NAME is a
// mistake, and the name goes into every export request) is ignored with one
// warning, and the next source in this chain names the service.
//
// # Resource detection
//
// Detectors run in this order; attributes from OTEL_RESOURCE_ATTRIBUTES and
// then [WithResourceAttributes] replace detected ones with the same key. A
// detector's partial result is kept; errors other than missing files become
// warnings. All files are read through the [WithFileSystem] root (default
// "/"), with size bounds.
//
// # Files
//
// Every file a setting or a detector names is read only if it is a regular
// file (symbolic links are followed): a FIFO, a device such as /dev/zero, a
// directory or a socket is refused before it is opened, and the open itself
// is non-blocking, so a path swapped for a FIFO cannot block either. Reads
// stop at a size bound (labels file 64 KiB, cgroup 64 KiB, mountinfo 1 MiB,
// namespace 256 B; a longer file's first part is used) and at a two-second
// deadline. A refused FLOWTRACE_K8S_LABELS_FILE, or a special file at the
// default labels path, is one warning; a missing default file is silent.
// The files Start reads later follow the same rule (package
// internal/safefile): OTEL_EXPORTER_OTLP_CERTIFICATE (1 MiB, an error: no
// export), FLOWTRACE_SEMCONV_REGISTRY (4 MiB, a warning: built-in
// registry) and FLOWTRACE_CONSOLE_FILE (opened for appending, created if
// missing; anything but a regular file is refused and spans are not
// exported). FLOWTRACE_CONSOLE_FILE=/dev/stdout or /dev/stderr names the
// process's own stream and is not opened: under a pipe those paths are
// FIFOs, which the rule would otherwise refuse.
//
//	sdk         telemetry.sdk.name=flowtrace, telemetry.sdk.language=go, telemetry.sdk.version
//	host        host.name, os.type, host.arch
//	process     process.pid, process.executable.name, process.runtime.name, process.runtime.version (never arguments)
//	build       service.version (main module version), vcs.revision, vcs.time, vcs.modified (Go build settings)
//	container   container.id from /proc/self/cgroup (64 KiB), else /proc/self/mountinfo (1 MiB)
//	kubernetes  k8s.namespace.name, k8s.pod.name, k8s.pod.uid, k8s.node.name, k8s.deployment.name;
//	            reads /var/run/secrets/kubernetes.io/serviceaccount/namespace and the labels file (64 KiB)
//	cloud       opt-in; cloud.provider, cloud.platform, cloud.region, cloud.availability_zone,
//	            cloud.account.id, host.id, host.type, host.image.id, aws.ecs.*; ECS task
//	            endpoint, EC2 IMDSv2 and GCE metadata asked concurrently, one second in
//	            total, bodies bounded, no proxy, no redirects
package config
