// Package crosstest holds end-to-end tests that span the three middleware
// packages: an HTTP edge calling a gRPC service that produces to Kafka,
// exported over OTLP to an in-process receiver. It has no code of its own.
package crosstest
