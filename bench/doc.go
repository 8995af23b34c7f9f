// Package bench measures flowtrace against the tracers and instrumentation
// users would otherwise pick, on identical work, in one run. It is a module
// of its own so that its comparison dependencies never reach users.
//
// Run everything with ./run.sh; it writes docs/performance.md.
package bench
