package remotesampling

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       response
		err        string
	}{
		{"jaeger legacy integer enum", `{"strategyType":0,"probabilisticSampling":{"samplingRate":0.5},"rateLimitingSampling":null,"operationSampling":null}`,
			response{kind: kindProbabilistic, probability: 0.5}, ""},
		{"collector string enum", `{"strategyType":"PROBABILISTIC","probabilisticSampling":{"samplingRate":0.25}}`,
			response{kind: kindProbabilistic, probability: 0.25}, ""},
		{"rate limiting integer", `{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":7}}`,
			response{kind: kindRateLimiting, rate: 7}, ""},
		{"rate limiting string", `{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":3}}`,
			response{kind: kindRateLimiting, rate: 3}, ""},
		{"protojson leaves zeros out", `{"probabilisticSampling":{}}`, response{kind: kindProbabilistic}, ""},
		{"quoted number", `{"probabilisticSampling":{"samplingRate":"0.125"}}`, response{kind: kindProbabilistic, probability: 0.125}, ""},
		{"per operation", `{"strategyType":0,"probabilisticSampling":{"samplingRate":0.5},"operationSampling":{"defaultSamplingProbability":0.5,"defaultLowerBoundTracesPerSecond":2,"defaultUpperBoundTracesPerSecond":0,"perOperationStrategies":[{"operation":"GET /a","probabilisticSampling":{"samplingRate":0.2}},{"operation":"GET /a","probabilisticSampling":{"samplingRate":0.9}}]}}`,
			response{kind: kindPerOperation, probability: 0.5, lowerBound: 2, operations: []operation{{"GET /a", 0.2}}}, ""},
		{"unknown members ignored", `{"probabilisticSampling":{"samplingRate":1},"futureField":{"x":[1,2]}}`, response{kind: kindProbabilistic, probability: 1}, ""},
		{"probability over 1", `{"probabilisticSampling":{"samplingRate":1.5}}`, response{}, "samplingRate"},
		{"negative rate", `{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":-1}}`, response{}, "maxTracesPerSecond"},
		{"huge rate", `{"strategyType":1,"rateLimitingSampling":{"maxTracesPerSecond":1e300}}`, response{}, "maxTracesPerSecond"},
		{"NaN string", `{"probabilisticSampling":{"samplingRate":"NaN"}}`, response{}, "samplingRate"},
		{"rate as bool", `{"probabilisticSampling":{"samplingRate":true}}`, response{}, "samplingRate"},
		{"unknown enum", `{"strategyType":7,"probabilisticSampling":{"samplingRate":1}}`, response{}, "strategyType"},
		{"unknown enum name", `{"strategyType":"ADAPTIVE","probabilisticSampling":{"samplingRate":1}}`, response{}, "strategyType"},
		{"missing probabilistic", `{"strategyType":0}`, response{}, "without probabilisticSampling"},
		{"missing rate limiting", `{"strategyType":1}`, response{}, "without rateLimitingSampling"},
		{"operation without name", `{"operationSampling":{"perOperationStrategies":[{"probabilisticSampling":{"samplingRate":1}}]}}`, response{}, "perOperationStrategies[0]"},
		{"truncated", `{"strategyType":0,"probabilisticSampling":{"samplingR`, response{}, "not a strategy"},
		{"trailing data", `{"probabilisticSampling":{"samplingRate":1}} {}`, response{}, "data after"},
		{"html error page", `<html><body>502 Bad Gateway</body></html>`, response{}, "not a strategy"},
		{"empty", ``, response{}, "not a strategy"},
		{"array", `[1,2]`, response{}, "not a strategy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseJSON([]byte(tc.body), 100)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.True(t, tc.want.equal(got), "got %+v", got)
		})
	}
}

func TestParseJSONBoundsOperations(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"operationSampling":{"defaultSamplingProbability":0.1,"perOperationStrategies":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"operation":"op` + string(rune('A'+i%26)) + string(rune('a'+i/26)) + `","probabilisticSampling":{"samplingRate":1}}`)
	}
	b.WriteString(`]}}`)
	got, err := parseJSON([]byte(b.String()), 10)
	require.NoError(t, err)
	require.Len(t, got.operations, 10)
	require.Equal(t, 40, got.dropped)
}

func TestParseArg(t *testing.T) {
	def := Args{Endpoint: DefaultEndpoint, PollingInterval: DefaultPollingInterval, InitialSamplingRate: DefaultInitialSamplingRate}
	for _, tc := range []struct {
		arg      string
		want     Args
		warnings int
	}{
		{"", def, 0},
		{"endpoint=jaeger:5779,pollingIntervalMs=5000,initialSamplingRate=0.25", Args{"jaeger:5779", 5 * time.Second, 0.25}, 0},
		{" initialSamplingRate = 1 , endpoint=http://jaeger:5778/sampling ", Args{"http://jaeger:5778/sampling", DefaultPollingInterval, 1}, 0},
		{"endpoint=grpcs://[::1]:5779", Args{"grpcs://[::1]:5779", DefaultPollingInterval, DefaultInitialSamplingRate}, 0},
		{"endpoint=ftp://x:1", def, 1},
		{"endpoint=jaeger", def, 1},
		{"endpoint=jaeger:99999", def, 1},
		{"endpoint=http://", def, 1},
		{"endpoint=jae ger:1", def, 1},
		{"pollingIntervalMs=abc", def, 1},
		{"pollingIntervalMs=5", def, 1},
		{"pollingIntervalMs=-1000", def, 1},
		{"initialSamplingRate=7", def, 1},
		{"initialSamplingRate=NaN", def, 1},
		{"0.25", def, 1},
		{"colour=blue", def, 1},
		{"initialSamplingRate=0.5,initialSamplingRate=0.1", Args{DefaultEndpoint, DefaultPollingInterval, 0.5}, 1},
		{"endpoint=,", def, 1},
		{strings.Repeat("x", maxArgLength+1), def, 1},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			got, warnings := ParseArg(tc.arg)
			require.Equal(t, tc.want, got)
			require.Len(t, warnings, tc.warnings, "%q", warnings)
		})
	}
}

func TestParseArgWarningsHideValues(t *testing.T) {
	_, warnings := ParseArg("endpoint=https://user:s3cret@/x")
	require.Len(t, warnings, 1)
	require.NotContains(t, warnings[0], "s3cret")
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"strategyType":0,"probabilisticSampling":{"samplingRate":0.5}}`))
	f.Add([]byte(`{"strategyType":"RATE_LIMITING","rateLimitingSampling":{"maxTracesPerSecond":"3"}}`))
	f.Add([]byte(`{"operationSampling":{"defaultSamplingProbability":0.5,"defaultLowerBoundTracesPerSecond":2,"perOperationStrategies":[{"operation":"a","probabilisticSampling":{"samplingRate":0.2}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseJSON(body, 8)
		if err != nil {
			return
		}
		requireValid(t, r, 8)
		compile(r, 1, time.Now(), 8, time.Now) // must not panic
	})
}

// requireValid checks what either decoder may accept: at most
// maxOperations operations, probabilities in [0, 1], rates in [0, maxRate].
func requireValid(t *testing.T, r response, maxOperations int) {
	t.Helper()
	require.LessOrEqual(t, len(r.operations), maxOperations)
	for _, p := range append([]float64{r.probability}, opProbabilities(r)...) {
		require.True(t, p >= 0 && p <= 1, "probability %v", p)
	}
	require.True(t, r.rate >= 0 && r.rate <= maxRate && r.lowerBound >= 0 && r.lowerBound <= maxRate)
}

func opProbabilities(r response) []float64 {
	var out []float64
	for _, op := range r.operations {
		out = append(out, op.probability)
	}
	return out
}

func FuzzParseArg(f *testing.F) {
	f.Add("endpoint=jaeger:5779,pollingIntervalMs=5000,initialSamplingRate=0.25")
	f.Add("endpoint=http://jaeger:5778/sampling")
	f.Add("endpoint=grpcs://[::1]:5779,initialSamplingRate=1e-3")
	f.Fuzz(func(t *testing.T, arg string) {
		a, _ := ParseArg(arg)
		require.NoError(t, checkEndpoint(a.Endpoint))
		require.GreaterOrEqual(t, a.PollingInterval, minPollingInterval)
		require.LessOrEqual(t, a.PollingInterval, maxPollingInterval)
		require.True(t, a.InitialSamplingRate >= 0 && a.InitialSamplingRate <= 1)
		// Whatever is accepted, New can build a poller for it.
		fe, err := newFetcher(a.Endpoint, "svc", time.Second, nil, 8)
		require.NoError(t, err)
		fe.close()
	})
}
