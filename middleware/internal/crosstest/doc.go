// Package crosstest holds end-to-end tests that span the three middleware
// packages: an HTTP edge calling a gRPC service that produces to Kafka,
// exported over OTLP to an in-process receiver, and TestConformance, which
// runs the same 16 scenarios (flow ids valid, absent, invalid, several,
// conflicting; public endpoint; critical operation; filter) through HTTP,
// gRPC and Kafka and requires identical outcomes. It has no code of its own.
package crosstest
