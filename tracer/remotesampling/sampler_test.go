package remotesampling

import (
	"bytes"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

// strategyServer is a real HTTP server on 127.0.0.1 whose answer the test
// changes.
type strategyServer struct {
	*httptest.Server
	body   atomic.Pointer[[]byte]
	status atomic.Int32
	hits   atomic.Int64
}

func newStrategyServer(t *testing.T, body string) *strategyServer {
	s := &strategyServer{}
	s.set(http.StatusOK, body)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if r.URL.Query().Get("service") != "shop" {
			http.Error(w, "want service=shop", http.StatusBadRequest)
			return
		}
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *strategyServer) set(status int, body string) {
	b := []byte(body)
	s.body.Store(&b)
	s.status.Store(int32(status))
}

func probabilistic(p string) string {
	return `{"strategyType":0,"probabilisticSampling":{"samplingRate":` + p + `}}`
}

func newSampler(t *testing.T, endpoint string, log *syncWriter, opts ...Option) *Sampler {
	t.Helper()
	var w *slog.Logger
	if log != nil {
		w = sdklog.NewSlog(log, sdklog.LevelWarn)
	}
	s, err := New("shop", append([]Option{WithArgs(Args{Endpoint: endpoint, PollingInterval: 100 * time.Millisecond, InitialSamplingRate: 0.5}), WithLogger(w)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

type syncWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func waitVersion(t *testing.T, s *Sampler, v uint64) Stats {
	t.Helper()
	require.Eventually(t, func() bool { return s.Stats().Version >= v }, 10*time.Second, 10*time.Millisecond,
		"strategy version %d never applied: %+v", v, s.Stats())
	return s.Stats()
}

// keptShare samples n random root traces of operation name.
func keptShare(s tracer.Sampler, name string, n int) (share float64, decisions []tracer.SamplingDecision) {
	kept := 0
	for range n {
		d := s.ShouldSample(tracer.SamplingParameters{TraceID: randomTraceID(), Name: name})
		if d.Sampled {
			kept++
			decisions = append(decisions, d)
		}
	}
	return float64(kept) / float64(n), decisions
}

func randomTraceID() propagation.TraceID {
	var id propagation.TraceID
	for i := range id {
		id[i] = byte(rand.Uint32())
	}
	return id
}

// binomial reports whether share is within 4 standard deviations of p over
// n trials.
func binomial(t *testing.T, p, share float64, n int) {
	t.Helper()
	sd := math.Sqrt(p * (1 - p) / float64(n))
	require.InDelta(t, p, share, 4*sd+1e-9, "share %v of %d, want %v", share, n, p)
}

func TestInitialRateUntilTheFirstAnswer(t *testing.T) {
	// The endpoint is down (nothing listens): the initial rate applies and
	// StartSpan does not wait for the network.
	log := &syncWriter{b: new(bytes.Buffer)}
	s := newSampler(t, "http://127.0.0.1:1/sampling", log)
	share, decisions := keptShare(s, "GET /a", 4000)
	binomial(t, 0.5, share, 4000)
	d := decisions[0]
	require.Equal(t, 0.5, d.Probability)
	require.Equal(t, tracer.ProbabilityThreshold(0.5), d.Threshold, "a probabilistic decision publishes its th")
	require.Equal(t, "probabilistic", d.Rule.Type())
	require.Equal(t, 0.5, d.Rule.Param())
	require.Eventually(t, func() bool { return s.Stats().Failures >= 2 }, 10*time.Second, 10*time.Millisecond)
	st := s.Stats()
	require.Zero(t, st.Version)
	require.NotEmpty(t, st.LastError)
	require.Contains(t, log.String(), "keeping the initial sampling rate 0.5")
}

// TestDecisionsDoNotWaitForAHangingPoll: the server holds the poll open;
// decisions are made meanwhile, with the initial rate.
func TestDecisionsDoNotWaitForAHangingPoll(t *testing.T) {
	polled, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(polled) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	s := newSampler(t, srv.URL, nil)
	<-polled
	share, _ := keptShare(s, "GET /a", 4000)
	binomial(t, 0.5, share, 4000)
	require.Zero(t, s.Stats().Version, "still the initial rate: the poll has not returned")
	close(release)
}

func TestFollowsStrategyChanges(t *testing.T) {
	srv := newStrategyServer(t, probabilistic("1"))
	s := newSampler(t, srv.URL+"/sampling", nil)
	st := waitVersion(t, s, 1)
	require.Equal(t, kindProbabilistic, st.Type)
	require.Equal(t, 1.0, st.DefaultProbability)
	require.False(t, st.Updated.IsZero())
	share, _ := keptShare(s, "GET /a", 1000)
	require.Equal(t, 1.0, share)

	srv.set(http.StatusOK, `{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.1}}`)
	st = waitVersion(t, s, 2)
	require.Equal(t, 0.1, st.DefaultProbability)
	share, decisions := keptShare(s, "GET /a", 4000)
	binomial(t, 0.1, share, 4000)
	for _, d := range decisions {
		require.Equal(t, tracer.ProbabilityThreshold(0.1), d.Threshold)
		require.Equal(t, 0.1, d.Probability)
	}
	// An unchanged answer keeps the version.
	polls := s.Stats().Polls
	require.Eventually(t, func() bool { return s.Stats().Polls >= polls+3 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, uint64(2), s.Stats().Version)
}

func TestKeepsLastGoodStrategy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		warn   string
	}{
		{"malformed JSON", http.StatusOK, `{"strategyType":0,"probabilisticSampling":{"samplingRate":`, "not a strategy"},
		{"out of range", http.StatusOK, probabilistic("3"), "samplingRate"},
		{"10 MB body", http.StatusOK, `{"operationSampling":{"perOperationStrategies":[` + strings.Repeat(`{"operation":"x","probabilisticSampling":{"samplingRate":1}},`, 10<<20/60) + `]}}`, "over 1048576 bytes"},
		{"server error", http.StatusServiceUnavailable, "busy", "503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newStrategyServer(t, probabilistic("0.25"))
			log := &syncWriter{b: new(bytes.Buffer)}
			s := newSampler(t, srv.URL, log)
			waitVersion(t, s, 1)
			srv.set(tc.status, tc.body)
			failures := s.Stats().Failures
			require.Eventually(t, func() bool { return s.Stats().Failures >= failures+3 }, 10*time.Second, 10*time.Millisecond)
			st := s.Stats()
			require.Equal(t, uint64(1), st.Version)
			require.Equal(t, 0.25, st.DefaultProbability)
			require.Contains(t, st.LastError, tc.warn)
			share, _ := keptShare(s, "GET /a", 4000)
			binomial(t, 0.25, share, 4000)
			logs := log.String()
			require.Contains(t, logs, tc.warn)
			require.Contains(t, logs, "keeping strategy 1 (probabilistic 0.25)")
			// One warning per failed poll, each a line of bounded length.
			lines := strings.Split(strings.TrimSpace(logs), "\n")
			require.LessOrEqual(t, len(lines), int(s.Stats().Failures)+1)
			for _, l := range lines {
				require.Less(t, len(l), 2048)
			}
			// The server recovers: the next good answer applies.
			srv.set(http.StatusOK, probabilistic("0.5"))
			require.Equal(t, 0.5, waitVersion(t, s, 2).DefaultProbability)
		})
	}
}

func TestRateLimitingStrategy(t *testing.T) {
	srv := newStrategyServer(t, `{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":50}}`)
	s := newSampler(t, srv.URL, nil)
	require.Equal(t, kindRateLimiting, waitVersion(t, s, 1).Type)
	// 200 traces every 50 ms for 2 s, of three operations: one budget of
	// 50/s for the service (plus its one second of burst), and each kept
	// trace records the share kept.
	kept := 0
	var last tracer.SamplingDecision
	start := time.Now()
	for round := 0; time.Since(start) < 2*time.Second; round++ {
		for i := range 200 {
			d := s.ShouldSample(tracer.SamplingParameters{TraceID: randomTraceID(), Name: []string{"a", "b", "c"}[i%3]})
			if d.Sampled {
				kept++
				last = d
				require.Equal(t, tracer.Threshold{}, d.Threshold, "a rate-limited decision erases th")
				require.Equal(t, "ratelimiting", d.Rule.Type())
				require.Equal(t, 50.0, d.Rule.Param())
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start).Seconds()
	require.LessOrEqual(t, float64(kept), 50+50*elapsed+1)
	require.GreaterOrEqual(t, kept, 50)
	require.Less(t, last.Probability, 0.2, "the acceptance ratio, not 1")
}

func TestPerOperationStrategy(t *testing.T) {
	srv := newStrategyServer(t, `{"strategyType":0,"operationSampling":{"defaultSamplingProbability":0.5,"defaultLowerBoundTracesPerSecond":0,
		"perOperationStrategies":[{"operation":"GET /hot","probabilisticSampling":{"samplingRate":0.05}},{"operation":"POST /checkout","probabilisticSampling":{"samplingRate":1}}]}}`)
	s := newSampler(t, srv.URL, nil)
	st := waitVersion(t, s, 1)
	require.Equal(t, map[string]float64{"GET /hot": 0.05, "POST /checkout": 1}, st.Operations)
	for name, p := range map[string]float64{"GET /hot": 0.05, "POST /checkout": 1, "GET /other": 0.5} {
		share, decisions := keptShare(s, name, 4000)
		binomial(t, p, share, 4000)
		require.Equal(t, tracer.ProbabilityThreshold(p), decisions[0].Threshold, name)
		require.Equal(t, p, decisions[0].Probability)
	}
}

// TestLowerBoundWeightsStayTrue: the lower bound keeps traces the
// probability refused; their weights and those of the probabilistic ones
// must still add up to the traces offered.
func TestLowerBoundWeightsStayTrue(t *testing.T) {
	clock := time.Unix(1000, 0)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	res := response{kind: kindPerOperation, probability: 0.01, lowerBound: 20}
	st := compile(res, 1, clock, 10, now)
	offered, weight := 0, 0.0
	var lowerBound, probabilisticTh int
	// 100 traces a second for 30 seconds: 1 a second by probability, the
	// bound tops it up to 20.
	for sec := range 30 {
		for i := range 100 {
			mu.Lock()
			clock = time.Unix(1000+int64(sec), int64(i)*int64(10*time.Millisecond))
			mu.Unlock()
			d := st.decide(tracer.SamplingParameters{TraceID: randomTraceID(), Name: "GET /rare"})
			offered++
			if !d.Sampled {
				continue
			}
			weight += 1 / d.Probability
			switch d.Rule.Type() {
			case "lowerbound":
				lowerBound++
				require.Equal(t, tracer.Threshold{}, d.Threshold)
			case "probabilistic":
				if d.Threshold != (tracer.Threshold{}) {
					probabilisticTh++
				}
			}
			require.Equal(t, 0.01, d.Rule.Param())
		}
	}
	require.Greater(t, lowerBound, 500)
	require.InDelta(t, float64(offered), weight, 0.1*float64(offered), "weights sum to what was offered")
	require.LessOrEqual(t, probabilisticTh, 2, "while the bound keeps traces, the probability's th is not published")

	// Busy operation, 1,000 traces a second for 5 s: the probability alone
	// keeps far more than the bound, so once the first second is past its
	// decisions publish th and weigh 1/p (the bucket's token a second still
	// goes to a refused trace now and then).
	st = compile(response{kind: kindPerOperation, probability: 0.5, lowerBound: 1}, 1, clock, 10, now)
	withTh, kept := 0, 0
	for sec := range 5 {
		for i := range 1000 {
			mu.Lock()
			clock = time.Unix(2000+int64(sec), int64(i)*int64(time.Millisecond))
			mu.Unlock()
			d := st.decide(tracer.SamplingParameters{TraceID: randomTraceID(), Name: "GET /busy"})
			if !d.Sampled || sec == 0 {
				continue
			}
			kept++
			if d.Threshold == tracer.ProbabilityThreshold(0.5) && d.Probability == 0.5 {
				withTh++
			}
		}
	}
	require.GreaterOrEqual(t, withTh, kept-10)
}

func TestOperationMapBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"operationSampling":{"defaultSamplingProbability":0.5,"defaultLowerBoundTracesPerSecond":1,"perOperationStrategies":[`)
	for i := range 5000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"operation":"op` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `-` + time.Duration(i).String() + `","probabilisticSampling":{"samplingRate":1}}`)
	}
	b.WriteString(`]}}`)
	srv := newStrategyServer(t, b.String())
	s := newSampler(t, srv.URL, nil, WithMaxOperations(100))
	st := waitVersion(t, s, 1)
	require.Len(t, st.Operations, 100)
	require.Equal(t, 4900, st.OperationsDropped)
	// Many distinct names at run time share one lower-bound budget past
	// the bound.
	for i := range 10000 {
		s.ShouldSample(tracer.SamplingParameters{TraceID: randomTraceID(), Name: "name-" + time.Duration(i).String()})
	}
	require.LessOrEqual(t, s.cur.Load().windows.Len(), 100+2)
}
