package kafkaconsume

// WithClock sets the clock of the log rate limit, for tests.
var WithClock = withClock
