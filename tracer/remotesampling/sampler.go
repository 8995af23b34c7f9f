package remotesampling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

// Limits of what a strategy server can make the sampler hold.
const (
	// DefaultMaxOperations is how many operations get a probability and a
	// lower-bound budget of their own (FLOWTRACE_SAMPLER_MAX_OPERATIONS);
	// later ones use the default probability and share one budget.
	DefaultMaxOperations = 2000
	// MaxBodyBytes bounds a strategy answer; a longer one is refused and
	// the last good strategy kept.
	MaxBodyBytes = 1 << 20
	// maxPollTimeout bounds one poll, so a server that accepts and never
	// answers delays the next poll by at most this.
	maxPollTimeout = 10 * time.Second
)

// Sampler is a tracer.Sampler that follows the strategy a Jaeger
// remote-sampling server gives for one service. Its decisions read the
// current strategy through one atomic pointer: they never wait for the
// network. Close stops its polling goroutine.
type Sampler struct {
	service string
	cfg     config
	fetcher fetcher

	cur atomic.Pointer[strategy]

	polls, failures atomic.Uint64
	mu              sync.Mutex
	lastPoll        time.Time
	lastErr         string

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

var _ tracer.Sampler = (*Sampler)(nil)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	args          Args
	logger        *slog.Logger
	maxOperations int
	httpClient    *http.Client
	now           func() time.Time // when polls happen and strategies apply
	clock         func() time.Time // what the budgets measure durations with
}

// WithArgs sets the endpoint, polling interval and initial sampling rate
// (OTEL_TRACES_SAMPLER_ARG, read by ParseArg). Zero fields keep their
// defaults.
func WithArgs(a Args) Option {
	return optionFunc(func(c *config) {
		if a.Endpoint != "" {
			c.args.Endpoint = a.Endpoint
		}
		if a.PollingInterval > 0 {
			c.args.PollingInterval = a.PollingInterval
		}
		if a.InitialSamplingRate >= 0 && a.InitialSamplingRate <= 1 {
			c.args.InitialSamplingRate = a.InitialSamplingRate
		}
	})
}

// WithLogger sets where the sampler warns (one line per failed poll, at
// most one per polling interval). Default: nowhere.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithMaxOperations bounds the operations that get rules and budgets of
// their own (default DefaultMaxOperations).
func WithMaxOperations(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxOperations = n
		}
	})
}

// WithHTTPClient sets the client of an http(s):// endpoint (default: a
// client with a timeout below the polling interval).
func WithHTTPClient(h *http.Client) Option {
	return optionFunc(func(c *config) {
		if h != nil {
			c.httpClient = h
		}
	})
}

// New returns a sampler for service and starts polling its endpoint: the
// first poll at once, then one per polling interval. Until an answer comes
// it samples at the initial sampling rate. The only error is an endpoint
// New cannot use at all.
func New(service string, opts ...Option) (*Sampler, error) {
	cfg := config{
		args:          Args{Endpoint: DefaultEndpoint, PollingInterval: DefaultPollingInterval, InitialSamplingRate: DefaultInitialSamplingRate},
		logger:        slog.New(slog.DiscardHandler),
		maxOperations: DefaultMaxOperations,
		now:           time.Now,
		clock:         monotonicClock(),
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if err := checkEndpoint(cfg.args.Endpoint); err != nil {
		return nil, fmt.Errorf("jaeger_remote endpoint: %w", err)
	}
	timeout := min(cfg.args.PollingInterval, maxPollTimeout)
	f, err := newFetcher(cfg.args.Endpoint, service, timeout, cfg.httpClient, cfg.maxOperations)
	if err != nil {
		return nil, err
	}
	s := &Sampler{service: service, cfg: cfg, fetcher: f, stop: make(chan struct{}), done: make(chan struct{})}
	s.cur.Store(compile(response{kind: kindProbabilistic, probability: cfg.args.InitialSamplingRate}, 0, time.Time{}, cfg.maxOperations, cfg.clock))
	go s.run(timeout)
	return s, nil
}

// ShouldSample implements tracer.Sampler with the current strategy.
func (s *Sampler) ShouldSample(p tracer.SamplingParameters) tracer.SamplingDecision {
	return s.cur.Load().decide(p)
}

// Description names the sampler, its endpoint and its polling interval.
func (s *Sampler) Description() string {
	return fmt.Sprintf("jaeger_remote{%s,every %s,initial %g}", redact(s.cfg.args.Endpoint), s.cfg.args.PollingInterval, s.cfg.args.InitialSamplingRate)
}

// Close stops polling and waits for the poller to return. The sampler
// keeps deciding with the last strategy it had.
func (s *Sampler) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.fetcher.close()
	})
	return nil
}

func (s *Sampler) run(timeout time.Duration) {
	defer close(s.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(s.cfg.args.PollingInterval)
	defer t.Stop()
	for {
		s.poll(ctx, timeout)
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// poll asks once and applies a good answer. A failure keeps the current
// strategy and warns once (polls are an interval apart).
func (s *Sampler) poll(ctx context.Context, timeout time.Duration) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	res, err := s.fetcher.fetch(pctx)
	cancel()
	s.polls.Add(1)
	now := s.cfg.now()
	s.mu.Lock()
	s.lastPoll = now
	if err != nil {
		s.lastErr = err.Error()
	} else {
		s.lastErr = ""
	}
	s.mu.Unlock()
	cur := s.cur.Load()
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return // closing
		}
		s.failures.Add(1)
		sdklog.Warnf(s.cfg.logger, "jaeger_remote: %s: %v; keeping %s", redact(s.cfg.args.Endpoint), err, cur.summary())
		return
	}
	if cur.version > 0 && cur.res.equal(res) {
		return
	}
	next := compile(res, cur.version+1, now, s.cfg.maxOperations, s.cfg.clock)
	s.cur.Store(next)
	sdklog.Infof(s.cfg.logger, "jaeger_remote: %s applied, from %s", next.summary(), redact(s.cfg.args.Endpoint))
}

// summary describes a strategy for a warning.
func (st *strategy) summary() string {
	if st.version == 0 {
		return fmt.Sprintf("the initial sampling rate %g", st.res.probability)
	}
	switch st.res.kind {
	case kindRateLimiting:
		return fmt.Sprintf("strategy %d (ratelimiting %g/s)", st.version, st.res.rate)
	case kindPerOperation:
		return fmt.Sprintf("strategy %d (per operation: default %g, %d operations, lower bound %g/s)", st.version, st.res.probability, len(st.res.operations), st.res.lowerBound)
	}
	return fmt.Sprintf("strategy %d (probabilistic %g)", st.version, st.res.probability)
}

// Stats is what the sampler applies now and how its polls went.
type Stats struct {
	Endpoint string
	// Version is 0 while the initial sampling rate applies, then counts the
	// different strategies applied (an unchanged answer keeps the version).
	Version uint64
	// Updated is when the current strategy was applied (zero for the
	// initial one).
	Updated time.Time
	// Type is "probabilistic", "ratelimiting" or "peroperation".
	Type string
	// DefaultProbability is the probability of every trace (probabilistic)
	// or of operations that have no rule of their own (peroperation).
	DefaultProbability float64
	// RateLimit is the service's traces per second (ratelimiting).
	RateLimit float64
	// LowerBound is each operation's guaranteed traces per second
	// (peroperation).
	LowerBound float64
	// Operations are the per-operation probabilities in use.
	Operations map[string]float64
	// OperationsDropped counts operations of the strategy beyond the bound
	// (WithMaxOperations); they use DefaultProbability.
	OperationsDropped int
	Polls, Failures   uint64
	LastPoll          time.Time
	// LastError is the last poll's error, "" after a good one.
	LastError string
}

// Stats reports the strategy in use and the polls so far.
func (s *Sampler) Stats() Stats {
	st := s.cur.Load()
	out := Stats{
		Endpoint: redact(s.cfg.args.Endpoint), Version: st.version, Updated: st.updated, Type: st.res.kind,
		DefaultProbability: st.res.probability, RateLimit: st.res.rate, LowerBound: st.res.lowerBound,
		OperationsDropped: st.res.dropped, Polls: s.polls.Load(), Failures: s.failures.Load(),
	}
	if len(st.res.operations) > 0 {
		out.Operations = make(map[string]float64, len(st.res.operations))
		for _, op := range st.res.operations {
			out.Operations[op.name] = op.probability
		}
	}
	s.mu.Lock()
	out.LastPoll, out.LastError = s.lastPoll, s.lastErr
	s.mu.Unlock()
	return out
}

// redact drops a URL's user information and query from what is logged.
func redact(endpoint string) string {
	if i := strings.Index(endpoint, "://"); i >= 0 {
		rest := endpoint[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			endpoint = endpoint[:i+3] + "…@" + rest[at+1:]
		}
	}
	if q := strings.IndexAny(endpoint, "?#"); q >= 0 {
		endpoint = endpoint[:q]
	}
	return endpoint
}
