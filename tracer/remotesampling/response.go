package remotesampling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// response is a strategy as the server sent it, validated: the one form
// both transports (gRPC and JSON) are read into.
type response struct {
	kind        string // kindProbabilistic, kindRateLimiting or kindPerOperation
	probability float64
	rate        float64 // traces per second, kindRateLimiting
	lowerBound  float64 // traces per second per operation, kindPerOperation
	operations  []operation
	// dropped counts operations left out by the bound on operations.
	dropped int
}

type operation struct {
	name        string
	probability float64
}

const (
	kindProbabilistic = "probabilistic"
	kindRateLimiting  = "ratelimiting"
	kindPerOperation  = "peroperation"
)

// maxRate bounds rates read from a server: more than a million traces a
// second per process is no limit, and the bound keeps the token bucket's
// arithmetic finite.
const maxRate = 1e6

// The JSON of the HTTP endpoints. Jaeger's legacy endpoint writes the
// strategy type as an integer (0, 1), the collector's and Jaeger's
// /sampling as a string ("PROBABILISTIC", "RATE_LIMITING"); absent
// members and nulls mean "not sent", as in both.
type jsonResponse struct {
	StrategyType          json.RawMessage    `json:"strategyType"`
	ProbabilisticSampling *jsonProbabilistic `json:"probabilisticSampling"`
	RateLimitingSampling  *struct {
		MaxTracesPerSecond json.RawMessage `json:"maxTracesPerSecond"`
	} `json:"rateLimitingSampling"`
	OperationSampling *struct {
		DefaultSamplingProbability       json.RawMessage `json:"defaultSamplingProbability"`
		DefaultLowerBoundTracesPerSecond json.RawMessage `json:"defaultLowerBoundTracesPerSecond"`
		DefaultUpperBoundTracesPerSecond json.RawMessage `json:"defaultUpperBoundTracesPerSecond"`
		PerOperationStrategies           []struct {
			Operation             *string            `json:"operation"`
			ProbabilisticSampling *jsonProbabilistic `json:"probabilisticSampling"`
		} `json:"perOperationStrategies"`
	} `json:"operationSampling"`
}

type jsonProbabilistic struct {
	SamplingRate json.RawMessage `json:"samplingRate"`
}

// parseJSON reads one strategy document strictly: one JSON object and
// nothing after it, numbers where numbers belong (protojson's quoted
// numbers included), probabilities in [0, 1], rates in [0, 1e6], a known
// strategy type. Members it does not know are ignored, as newer servers
// may add some.
func parseJSON(body []byte, maxOperations int) (response, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var j jsonResponse
	if err := dec.Decode(&j); err != nil {
		return response{}, fmt.Errorf("not a strategy: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return response{}, errors.New("not a strategy: data after the JSON object")
	}
	if j.OperationSampling != nil {
		o := j.OperationSampling
		r := response{kind: kindPerOperation}
		var err error
		if r.probability, err = number(o.DefaultSamplingProbability, 1, "defaultSamplingProbability"); err != nil {
			return response{}, err
		}
		if r.lowerBound, err = number(o.DefaultLowerBoundTracesPerSecond, maxRate, "defaultLowerBoundTracesPerSecond"); err != nil {
			return response{}, err
		}
		if _, err = number(o.DefaultUpperBoundTracesPerSecond, math.MaxFloat64, "defaultUpperBoundTracesPerSecond"); err != nil {
			return response{}, err
		}
		for i, op := range o.PerOperationStrategies {
			if op.Operation == nil || op.ProbabilisticSampling == nil {
				return response{}, fmt.Errorf("perOperationStrategies[%d]: want operation and probabilisticSampling", i)
			}
			p, err := number(op.ProbabilisticSampling.SamplingRate, 1, "samplingRate")
			if err != nil {
				return response{}, fmt.Errorf("perOperationStrategies[%d]: %w", i, err)
			}
			r.operations = append(r.operations, operation{name: *op.Operation, probability: p})
		}
		return r.bounded(maxOperations), nil
	}
	kind, err := strategyType(j.StrategyType)
	if err != nil {
		return response{}, err
	}
	switch kind {
	case kindRateLimiting:
		if j.RateLimitingSampling == nil {
			return response{}, errors.New("RATE_LIMITING without rateLimitingSampling")
		}
		rate, err := number(j.RateLimitingSampling.MaxTracesPerSecond, maxRate, "maxTracesPerSecond")
		return response{kind: kind, rate: rate}, err
	default:
		if j.ProbabilisticSampling == nil {
			return response{}, errors.New("PROBABILISTIC without probabilisticSampling")
		}
		p, err := number(j.ProbabilisticSampling.SamplingRate, 1, "samplingRate")
		return response{kind: kind, probability: p}, err
	}
}

func strategyType(raw json.RawMessage) (string, error) {
	switch string(bytes.TrimSpace(raw)) {
	case "", "null", "0", `"PROBABILISTIC"`:
		return kindProbabilistic, nil
	case "1", `"RATE_LIMITING"`:
		return kindRateLimiting, nil
	}
	return "", errors.New("unknown strategyType (want 0, 1, \"PROBABILISTIC\" or \"RATE_LIMITING\")")
}

// number reads a JSON number in [0, limit]; absent or null is 0 (protojson
// leaves zero values out). A quoted number is accepted, as protojson may
// write one; "NaN" and "Infinity" are not.
func number(raw json.RawMessage, limit float64, name string) (float64, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return 0, nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > limit {
		return 0, fmt.Errorf("%s is not a number in [0, %g]", name, limit)
	}
	return f, nil
}

// bounded keeps the first maxOperations operations (the first entry of a
// name that appears twice wins); the others fall to the default.
func (r response) bounded(maxOperations int) response {
	seen := make(map[string]bool, min(len(r.operations), maxOperations))
	kept := r.operations[:0]
	for _, op := range r.operations {
		if seen[op.name] {
			continue
		}
		if len(kept) >= maxOperations {
			r.dropped++
			continue
		}
		seen[op.name] = true
		kept = append(kept, op)
	}
	r.operations = kept
	return r
}

func (r response) equal(o response) bool {
	if r.kind != o.kind || r.probability != o.probability || r.rate != o.rate ||
		r.lowerBound != o.lowerBound || r.dropped != o.dropped || len(r.operations) != len(o.operations) {
		return false
	}
	for i := range r.operations {
		if r.operations[i] != o.operations[i] {
			return false
		}
	}
	return true
}
