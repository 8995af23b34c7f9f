// Package tokenbucket is flowtrace's one token bucket: the sampler's
// per-operation rate limit (tracer.RateLimited) and the edge's cap on forced
// sampling (middleware/internal/instr) both use it, so that the two cannot
// drift apart again.
//
// A bucket holds at most Burst tokens and gains PerSecond tokens a second.
// Its first use finds it full. Time comes from an injectable clock; a clock
// that steps back neither adds tokens nor takes any away (the bucket waits
// until the clock passes the latest time it saw). Rates below one a second
// work: with a burst of one, a rate of 0.5 lets one call through every two
// seconds.
//
// [Table] gives each key (an operation name) a bucket of its own, up to a
// bound; later keys share one overflow bucket, so that a flood of distinct
// names cannot grow memory. Each entry carries a caller-defined value that
// is guarded by the entry's lock together with the bucket (the sampler
// keeps its acceptance window there).
package tokenbucket
