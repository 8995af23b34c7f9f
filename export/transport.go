package export

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Transport sends OTLP trace requests. The request is one encoded,
// uncompressed ExportTraceServiceRequest (protobuf), so callers can encode
// once, measure the bytes against the request limit, reuse them across
// retries, or hand over bytes encoded elsewhere. NewOTLPGRPC and
// NewOTLPHTTP return the two implementations.
//
// Send retries by itself, within ctx and the transport's timeout, and
// returns the collector's answer: a Response (a partial success is data,
// not an error), or an error. Errors that change what the caller should do
// wrap ErrRequestTooLarge (split and resend) or ErrUnconfirmed (the request
// was sent but no answer came: the spans may have arrived).
type Transport interface {
	Send(ctx context.Context, request []byte) (Response, error)
	// Close releases connections. Sends after Close fail.
	Close(ctx context.Context) error
}

// Response is a collector's answer to an accepted request.
type Response struct {
	// RejectedSpans and ErrorMessage are the OTLP partial success: spans
	// the collector refused, and why. RejectedSpans == 0 with a message is
	// a warning.
	RejectedSpans int64
	ErrorMessage  string
}

var (
	// ErrRequestTooLarge: the collector refused the request for its size
	// (HTTP 413, or gRPC RESOURCE_EXHAUSTED without RetryInfo, which is how
	// grpc-go answers "received message larger than max").
	ErrRequestTooLarge = errors.New("flowtrace: OTLP request too large for the collector")
	// ErrUnconfirmed: the request was written completely, then the export
	// ended (deadline, cancellation) before any answer came.
	ErrUnconfirmed     = errors.New("flowtrace: OTLP request sent, no answer")
	errTransportClosed = errors.New("flowtrace: OTLP transport is closed")
)

// attemptResult is what one attempt tells the retry loop.
type attemptResult struct {
	resp Response
	err  error
	// retryable: the OTLP specification allows a retry; delay is the
	// server's RetryInfo or Retry-After (0: use the backoff).
	retryable bool
	delay     time.Duration
}

// retryPolicy is exponential backoff with jitter.
type retryPolicy struct {
	initial, max time.Duration
}

// maxServerDelay bounds a server's Retry-After or RetryInfo.
const maxServerDelay = time.Minute

// do runs attempt until it succeeds, fails for good, or the next wait
// would end past ctx's deadline.
func (p retryPolicy) do(ctx context.Context, attempt func(context.Context) attemptResult) (Response, error) {
	backoff := p.initial
	var prev error
	for {
		r := attempt(ctx)
		if r.err != nil && prev != nil && ctx.Err() != nil && !errors.Is(r.err, ErrUnconfirmed) {
			// The deadline cut the last attempt short: say what the
			// attempts before it met.
			r.err = fmt.Errorf("%w; earlier attempt: %v", r.err, prev)
		}
		if r.err == nil || !r.retryable || ctx.Err() != nil {
			return r.resp, r.err
		}
		prev = r.err
		wait := r.delay
		if wait <= 0 {
			// Full jitter on the upper half: [backoff/2, backoff).
			wait = backoff/2 + rand.N(backoff/2+1)
			backoff = min(2*backoff, p.max)
		}
		wait = min(wait, maxServerDelay)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return r.resp, r.err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return r.resp, r.err
		case <-t.C:
		}
	}
}
