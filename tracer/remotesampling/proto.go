package remotesampling

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// The few messages of Jaeger's sampling.proto (package jaeger.api_v2)
// that the sampler sends and reads, encoded by hand with protowire. The
// generated Go types (github.com/jaegertracing/jaeger-idl) are gogo
// protobuf messages: importing them puts the unmaintained
// github.com/gogo/protobuf into every user's module graph for one request
// of one string and one small answer.
//
//	SamplingStrategyParameters      1 serviceName string
//	SamplingStrategyResponse        1 strategyType enum (0 PROBABILISTIC, 1 RATE_LIMITING)
//	                                2 probabilisticSampling ProbabilisticSamplingStrategy
//	                                3 rateLimitingSampling RateLimitingSamplingStrategy
//	                                4 operationSampling PerOperationSamplingStrategies
//	ProbabilisticSamplingStrategy   1 samplingRate double
//	RateLimitingSamplingStrategy    1 maxTracesPerSecond int32
//	PerOperationSamplingStrategies  1 defaultSamplingProbability double
//	                                2 defaultLowerBoundTracesPerSecond double
//	                                3 perOperationStrategies repeated OperationSamplingStrategy
//	                                4 defaultUpperBoundTracesPerSecond double
//	OperationSamplingStrategy       1 operation string
//	                                2 probabilisticSampling ProbabilisticSamplingStrategy

// getSamplingStrategy is the one method flowtrace calls.
const getSamplingStrategy = "/jaeger.api_v2.SamplingManager/GetSamplingStrategy"

// encodeParameters is SamplingStrategyParameters{serviceName: service}.
func encodeParameters(service string) []byte {
	if service == "" {
		return nil // proto3 leaves empty strings out
	}
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendString(b, service)
}

// The decoded messages keep presence (a sub-message sent, even empty, is
// set), which is what tells the strategy kinds apart.
type protoResponse struct {
	strategyType  uint64
	probabilistic *float64 // probabilisticSampling.samplingRate
	rateLimiting  *int32   // rateLimitingSampling.maxTracesPerSecond
	perOperation  *protoPerOperation
}

type protoPerOperation struct {
	probability, lowerBound, upperBound float64
	operations                          []protoOperation
}

type protoOperation struct {
	name          string
	probabilistic *float64
}

// fields walks one message's fields, calling f for each; f returns the
// bytes it consumed of the field's value, or -1 for a field it does not
// know, which is skipped (newer servers may add fields). A known field of
// the wrong wire type is an error, as in gogo's generated code.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte) (int, error)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m, err := f(num, typ, b)
		if err != nil {
			return err
		}
		if m < 0 {
			m = protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return protowire.ParseError(m)
			}
		}
		b = b[m:]
	}
	return nil
}

func wrongType(name string) error { return fmt.Errorf("%s: wrong wire type", name) }

func consumeDouble(typ protowire.Type, b []byte, name string) (float64, int, error) {
	if typ != protowire.Fixed64Type {
		return 0, 0, wrongType(name)
	}
	v, n := protowire.ConsumeFixed64(b)
	if n < 0 {
		return 0, 0, fmt.Errorf("%s: %w", name, protowire.ParseError(n))
	}
	return math.Float64frombits(v), n, nil
}

func consumeBytes(typ protowire.Type, b []byte, name string) ([]byte, int, error) {
	if typ != protowire.BytesType {
		return nil, 0, wrongType(name)
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, 0, fmt.Errorf("%s: %w", name, protowire.ParseError(n))
	}
	return v, n, nil
}

func consumeVarint(typ protowire.Type, b []byte, name string) (uint64, int, error) {
	if typ != protowire.VarintType {
		return 0, 0, wrongType(name)
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, fmt.Errorf("%s: %w", name, protowire.ParseError(n))
	}
	return v, n, nil
}

// decodeProbabilistic merges a ProbabilisticSamplingStrategy into *p
// (protobuf merges a sub-message sent twice).
func decodeProbabilistic(b []byte, p **float64) error {
	if *p == nil {
		*p = new(float64)
	}
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		if num != 1 {
			return -1, nil
		}
		f, n, err := consumeDouble(typ, v, "samplingRate")
		**p = f
		return n, err
	})
}

func decodeRateLimiting(b []byte, r **int32) error {
	if *r == nil {
		*r = new(int32)
	}
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		if num != 1 {
			return -1, nil
		}
		x, n, err := consumeVarint(typ, v, "maxTracesPerSecond")
		**r = int32(x) // int32 is sign-extended on the wire; the low 32 bits are the value
		return n, err
	})
}

func decodeOperation(b []byte) (protoOperation, error) {
	var op protoOperation
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		switch num {
		case 1:
			s, n, err := consumeBytes(typ, v, "operation")
			op.name = string(s)
			return n, err
		case 2:
			s, n, err := consumeBytes(typ, v, "probabilisticSampling")
			if err == nil {
				err = decodeProbabilistic(s, &op.probabilistic)
			}
			return n, err
		}
		return -1, nil
	})
	return op, err
}

func decodePerOperation(b []byte, o *protoPerOperation) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		var (
			n   int
			err error
		)
		switch num {
		case 1:
			o.probability, n, err = consumeDouble(typ, v, "defaultSamplingProbability")
		case 2:
			o.lowerBound, n, err = consumeDouble(typ, v, "defaultLowerBoundTracesPerSecond")
		case 4:
			o.upperBound, n, err = consumeDouble(typ, v, "defaultUpperBoundTracesPerSecond")
		case 3:
			var s []byte
			if s, n, err = consumeBytes(typ, v, "perOperationStrategies"); err == nil {
				var op protoOperation
				if op, err = decodeOperation(s); err != nil {
					err = fmt.Errorf("perOperationStrategies[%d]: %w", len(o.operations), err)
				}
				o.operations = append(o.operations, op)
			}
		default:
			return -1, nil
		}
		return n, err
	})
}

func decodeProtoResponse(b []byte) (protoResponse, error) {
	var r protoResponse
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
		switch num {
		case 1:
			x, n, err := consumeVarint(typ, v, "strategyType")
			r.strategyType = x
			return n, err
		case 2, 3, 4:
			s, n, err := consumeBytes(typ, v, "strategy")
			if err != nil {
				return 0, err
			}
			switch num {
			case 2:
				err = decodeProbabilistic(s, &r.probabilistic)
			case 3:
				err = decodeRateLimiting(s, &r.rateLimiting)
			default:
				if r.perOperation == nil {
					r.perOperation = &protoPerOperation{}
				}
				err = decodePerOperation(s, r.perOperation)
			}
			return n, err
		}
		return -1, nil
	})
	return r, err
}

// decodeResponse reads a SamplingStrategyResponse with the checks
// parseJSON makes: an operationSampling, when sent, wins (as in Jaeger's
// clients); otherwise strategyType says which strategy must be there.
func decodeResponse(b []byte, maxOperations int) (response, error) {
	if len(b) > MaxBodyBytes {
		return response{}, fmt.Errorf("answer over %d bytes refused", MaxBodyBytes)
	}
	res, err := decodeProtoResponse(b)
	if err != nil {
		return response{}, fmt.Errorf("not a strategy: %w", err)
	}
	check := func(f, limit float64, name string) (float64, error) {
		if math.IsNaN(f) || f < 0 || f > limit {
			return 0, fmt.Errorf("%s is not a number in [0, %g]", name, limit)
		}
		return f, nil
	}
	if o := res.perOperation; o != nil {
		r := response{kind: kindPerOperation}
		if r.probability, err = check(o.probability, 1, "defaultSamplingProbability"); err != nil {
			return response{}, err
		}
		if r.lowerBound, err = check(o.lowerBound, maxRate, "defaultLowerBoundTracesPerSecond"); err != nil {
			return response{}, err
		}
		r.operations = make([]operation, 0, min(len(o.operations), maxOperations))
		for i, op := range o.operations {
			if op.probabilistic == nil {
				return response{}, fmt.Errorf("perOperationStrategies[%d]: want probabilisticSampling", i)
			}
			p, err := check(*op.probabilistic, 1, "samplingRate")
			if err != nil {
				return response{}, fmt.Errorf("perOperationStrategies[%d]: %w", i, err)
			}
			r.operations = append(r.operations, operation{name: op.name, probability: p})
		}
		return r.bounded(maxOperations), nil
	}
	switch res.strategyType {
	case 1:
		if res.rateLimiting == nil {
			return response{}, errors.New("RATE_LIMITING without rateLimitingSampling")
		}
		rate, err := check(float64(*res.rateLimiting), maxRate, "maxTracesPerSecond")
		return response{kind: kindRateLimiting, rate: rate}, err
	case 0:
		if res.probabilistic == nil {
			return response{}, errors.New("PROBABILISTIC without probabilisticSampling")
		}
		p, err := check(*res.probabilistic, 1, "samplingRate")
		return response{kind: kindProbabilistic, probability: p}, err
	}
	return response{}, fmt.Errorf("unknown strategyType %d", int32(res.strategyType))
}

// codec carries flowtrace's one call: a request already encoded by
// encodeParameters and the answer's bytes, copied out for decodeResponse.
// It is passed per call (grpc.ForceCodecV2) and never registered, so the
// process-wide "proto" codec other libraries use stays theirs; its name
// only sets the content-subtype Jaeger expects (application/grpc+proto).
type codec struct{}

// rawMessage is a message's wire bytes.
type rawMessage struct{ b []byte }

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("remotesampling codec: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(m.b)}, nil
}

func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("remotesampling codec: cannot unmarshal into %T", v)
	}
	m.b = data.Materialize()
	return nil
}
