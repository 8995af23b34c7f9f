// Package templates generates new services that are traced with flowtrace
// from the start: the code behind `flowtrace new`.
//
// [Generate] writes a service into a directory:
//
//	go.mod                  module path, flowtrace and the direct dependencies;
//	                        WithReplace: a replace directive to a local clone
//	go.sum                  WithWorkspace or WithReplace: the clone's checksums
//	go.work                 WithWorkspace: resolves flowtrace from a local clone
//	main.go                 flowtrace.Start, servers, readiness, drain delay
//	                        (DRAIN_DELAY), graceful shutdown on SIGTERM
//	handler.go              HTTP API with tracehttp.NewHandler (/hello/{name},
//	                        untraced /livez and /readyz) and a
//	                        tracehttp.NewTransport client
//	handler_test.go         status, X-Flow-ID echo and propagation, and the spans,
//	                        recorded through flowtrace's pipeline by
//	                        tracetest.Recorder: fails if the handler is not traced
//	grpc.go                 WithGRPC: tracegrpc.ServerOptions and the gRPC health service
//	kafka.go                WithKafka: a tracekafka producer (/hello publishes) and
//	                        a kafkaconsume consumer (KAFKA_BROKERS)
//	deploy/kubernetes.yaml  Deployment and Service with the downward-API environment
//	                        flowtrace reads (POD_NAME, POD_NAMESPACE, POD_UID,
//	                        NODE_NAME, HOST_IP, labels at /etc/podinfo), separate
//	                        readiness and liveness probes, a preStop drain delay
//	Dockerfile, .dockerignore, .gitignore, README.md
//
// The templates are embedded (text/template) and the Go files are formatted
// with go/format before they are written. [Render] returns the files
// without writing them.
//
// # flowtrace's version
//
// flowtrace is not published yet, so by default go.mod requires it at
// [PlaceholderVersion], the pseudo-version the go command itself writes for a
// module that only a workspace or a replace directive provides. The module
// is resolved from a local clone through a Go workspace rather than a
// replace directive in go.mod, because the workspace leaves go.mod as it
// will be once flowtrace is published (only the version changes:
// [WithFlowtraceVersion]) and is kept out of version control. [WithWorkspace]
// writes that go.work; the generated README shows how to write it by hand.
// Besides `use`, go.work needs a versioned replace of the placeholder
// version: using a module in a workspace does not replace the version other
// modules require, whose go.mod the go command still reads
// (golang/go#66516).
//
// Where a workspace does not fit (a build that sets GOWORK=off, a CI job
// building the service alone), [WithReplace] writes a replace directive to
// the clone into go.mod instead, and both options copy the clone's go.sum
// (checked line by line to be checksums, read as a bounded regular file):
// the service's dependencies are flowtrace's at flowtrace's versions.
// `flowtrace new --replace` then runs go mod tidy, which adds the indirect
// requirements a read-only build needs, offline from the module cache.
//
// The other dependencies are required at the versions flowtrace itself is
// built and tested with; a test keeps them in step with flowtrace's go.mod.
//
// # Names
//
// The service name must be a DNS-1035 label (at most 63 of a-z, 0-9 and '-',
// starting with a letter): the Deployment, the Service, the container, the
// binary and the app.kubernetes.io/name label all carry it, and flowtrace
// reads service.name from that label on Kubernetes. Outside Kubernetes
// flowtrace names the service after the last element of the module path,
// which defaults to the name.
package templates
