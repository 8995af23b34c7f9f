// Package sigterm holds only tests: it builds the main shown in the README
// (extracted from README.md, so the documented program is the tested one),
// runs it as a child process against a real OTLP receiver, stops it with
// SIGTERM while spans are queued, and checks that every span arrives and
// the process exits within flowtrace.CloseTimeout.
package sigterm
