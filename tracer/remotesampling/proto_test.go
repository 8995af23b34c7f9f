package remotesampling

import (
	"context"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/encoding/protowire"
)

// The test side of the wire: messages built field by field, so a case can
// hold what no generated encoder writes (unknown fields, wrong wire
// types, a sub-message sent twice).

func msg(fields ...[]byte) []byte {
	var b []byte
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

func fDouble(num protowire.Number, v float64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, num, protowire.Fixed64Type), math.Float64bits(v))
}

func fVarint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func fBytes(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

func fString(num protowire.Number, v string) []byte { return fBytes(num, []byte(v)) }

func probabilisticMsg(p float64) []byte { return fDouble(1, p) }

// encodeResponse writes r as Jaeger's server would (zero values left out).
func encodeResponse(r response) []byte {
	var b []byte
	switch r.kind {
	case kindProbabilistic:
		b = fBytes(2, probabilisticMsg(r.probability))
	case kindRateLimiting:
		b = msg(fVarint(1, 1), fBytes(3, fVarint(1, uint64(int64(r.rate)))))
	case kindPerOperation:
		o := msg(fDouble(1, r.probability), fDouble(2, r.lowerBound))
		for _, op := range r.operations {
			o = append(o, fBytes(3, msg(fString(1, op.name), fBytes(2, probabilisticMsg(op.probability))))...)
		}
		b = msg(fBytes(2, probabilisticMsg(r.probability)), fBytes(4, o))
	}
	return b
}

func TestDecodeResponse(t *testing.T) {
	group := msg(protowire.AppendTag(nil, 9, protowire.StartGroupType), fVarint(1, 3),
		protowire.AppendTag(nil, 9, protowire.EndGroupType))
	unknown := msg(fVarint(15, 7), fString(16, "new"), protowire.AppendFixed32(protowire.AppendTag(nil, 17, protowire.Fixed32Type), 1), group)
	perOp := func(ops ...[]byte) []byte {
		o := msg(fDouble(1, 0.5), fDouble(2, 2), fDouble(4, 100))
		for _, op := range ops {
			o = append(o, fBytes(3, op)...)
		}
		return o
	}
	op := func(name string, p float64) []byte { return msg(fString(1, name), fBytes(2, probabilisticMsg(p))) }
	for _, tc := range []struct {
		name string
		wire []byte
		want response
		err  string
	}{
		{"probabilistic", msg(fVarint(1, 0), fBytes(2, probabilisticMsg(0.25))), response{kind: kindProbabilistic, probability: 0.25}, ""},
		{"zero values left out", fBytes(2, nil), response{kind: kindProbabilistic}, ""},
		{"rate limiting", msg(fVarint(1, 1), fBytes(3, fVarint(1, 7))), response{kind: kindRateLimiting, rate: 7}, ""},
		{"rate limiting zero", msg(fVarint(1, 1), fBytes(3, nil)), response{kind: kindRateLimiting}, ""},
		{"per operation", msg(fBytes(2, probabilisticMsg(0.5)), fBytes(4, perOp(op("GET /a", 0.1), op("GET /b", 1)))),
			response{kind: kindPerOperation, probability: 0.5, lowerBound: 2, operations: []operation{{"GET /a", 0.1}, {"GET /b", 1}}}, ""},
		{"operationSampling wins over strategyType", msg(fVarint(1, 1), fBytes(3, fVarint(1, 7)), fBytes(4, perOp())),
			response{kind: kindPerOperation, probability: 0.5, lowerBound: 2, operations: []operation{}}, ""},
		{"unknown fields skipped at every level",
			msg(unknown, fBytes(2, msg(unknown, probabilisticMsg(0.5))), fBytes(4, msg(unknown, perOp(msg(unknown, op("a", 0.2), unknown))))),
			response{kind: kindPerOperation, probability: 0.5, lowerBound: 2, operations: []operation{{"a", 0.2}}}, ""},
		{"a sub-message sent twice is merged", msg(fBytes(2, probabilisticMsg(0.5)), fBytes(2, fVarint(9, 1))),
			response{kind: kindProbabilistic, probability: 0.5}, ""},
		{"last scalar wins", msg(fBytes(2, msg(probabilisticMsg(0.5), probabilisticMsg(0.75)))),
			response{kind: kindProbabilistic, probability: 0.75}, ""},
		{"the first of a repeated name wins", msg(fBytes(4, perOp(op("a", 0.1), op("a", 0.9)))),
			response{kind: kindPerOperation, probability: 0.5, lowerBound: 2, operations: []operation{{"a", 0.1}}}, ""},

		{"empty answer", nil, response{}, "PROBABILISTIC without probabilisticSampling"},
		{"rate limiting without its strategy", fVarint(1, 1), response{}, "RATE_LIMITING without rateLimitingSampling"},
		{"unknown strategy type", msg(fVarint(1, 2), fBytes(2, probabilisticMsg(0.5))), response{}, "unknown strategyType 2"},
		{"probability over 1", fBytes(2, probabilisticMsg(1.5)), response{}, "samplingRate is not a number"},
		{"negative probability", fBytes(2, probabilisticMsg(-0.5)), response{}, "samplingRate is not a number"},
		{"NaN probability", fBytes(2, probabilisticMsg(math.NaN())), response{}, "samplingRate is not a number"},
		{"negative rate", msg(fVarint(1, 1), fBytes(3, fVarint(1, uint64(math.MaxUint64)))), response{}, "maxTracesPerSecond is not a number"},
		{"rate over 1e6", msg(fVarint(1, 1), fBytes(3, fVarint(1, 2e6))), response{}, "maxTracesPerSecond is not a number"},
		{"infinite lower bound", fBytes(4, fDouble(2, math.Inf(1))), response{}, "defaultLowerBoundTracesPerSecond is not a number"},
		{"operation without probabilisticSampling", fBytes(4, perOp(op("a", 0.1), fString(1, "b"))), response{}, "perOperationStrategies[1]: want probabilisticSampling"},
		{"operation probability over 1", fBytes(4, perOp(op("a", 2))), response{}, "perOperationStrategies[0]: samplingRate is not a number"},
		{"truncated", fBytes(2, probabilisticMsg(0.5))[:5], response{}, "not a strategy"},
		{"length past the end", []byte{0x12, 0x7f, 0x09}, response{}, "not a strategy"},
		{"bad tag", []byte{0x00}, response{}, "not a strategy"},
		{"double sent as varint", fBytes(2, fVarint(1, 1)), response{}, "samplingRate: wrong wire type"},
		{"message sent as varint", fVarint(2, 1), response{}, "strategy: wrong wire type"},
		{"truncated inside an operation", fBytes(4, fBytes(3, []byte{0x0a, 0x05, 'a'})), response{}, "perOperationStrategies[0]"},
		{"unterminated group", protowire.AppendTag(nil, 9, protowire.StartGroupType), response{}, "not a strategy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeResponse(tc.wire, 8)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.True(t, got.equal(tc.want), "got %+v, want %+v", got, tc.want)
		})
	}
}

func TestDecodeResponseBoundsOperations(t *testing.T) {
	r := response{kind: kindPerOperation, probability: 0.5}
	for i := range 10 {
		r.operations = append(r.operations, operation{name: strings.Repeat("x", i+1), probability: 0.1})
	}
	got, err := decodeResponse(encodeResponse(r), 4)
	require.NoError(t, err)
	require.Len(t, got.operations, 4)
	require.Equal(t, 6, got.dropped)

	_, err = decodeResponse(make([]byte, MaxBodyBytes+1), 4)
	require.ErrorContains(t, err, "over")
}

func TestEncodeParameters(t *testing.T) {
	require.Empty(t, encodeParameters(""))
	b := encodeParameters("shop")
	num, typ, n := protowire.ConsumeTag(b)
	require.Equal(t, protowire.Number(1), num)
	require.Equal(t, protowire.BytesType, typ)
	v, m := protowire.ConsumeBytes(b[n:])
	require.Equal(t, "shop", string(v))
	require.Len(t, b, n+m)
}

// TestCodecIsNotRegistered: the codec serves flowtrace's call only; the
// process-wide "proto" codec stays gRPC's.
func TestCodecIsNotRegistered(t *testing.T) {
	c := encoding.GetCodecV2("proto")
	require.NotNil(t, c)
	_, ours := c.(codec)
	require.False(t, ours)
	_, err := codec{}.Marshal("not a raw message")
	require.Error(t, err)
}

// grpcStrategyServer is a real gRPC server on 127.0.0.1 serving Jaeger's
// SamplingManager with whatever bytes the test sets, and recording the
// service each request names.
type grpcStrategyServer struct {
	addr    string
	answer  atomic.Pointer[[]byte]
	service atomic.Pointer[string]
}

func newGRPCStrategyServer(t *testing.T, answer []byte) *grpcStrategyServer {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &grpcStrategyServer{addr: lis.Addr().String()}
	s.answer.Store(&answer)
	srv := grpc.NewServer(grpc.ForceServerCodecV2(codec{}))
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: "jaeger.api_v2.SamplingManager",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "GetSamplingStrategy",
			Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var req rawMessage
				if err := dec(&req); err != nil {
					return nil, err
				}
				var name string
				_ = fields(req.b, func(num protowire.Number, typ protowire.Type, v []byte) (int, error) {
					if num != 1 || typ != protowire.BytesType {
						return -1, nil
					}
					b, n := protowire.ConsumeBytes(v)
					name = string(b)
					return n, nil
				})
				s.service.Store(&name)
				return &rawMessage{b: *s.answer.Load()}, nil
			},
		}},
	}, struct{}{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return s
}

// TestGRPCStrategy: the sampler asks a gRPC server for its service and
// follows the hand-decoded answer through each strategy kind.
func TestGRPCStrategy(t *testing.T) {
	srv := newGRPCStrategyServer(t, encodeResponse(response{kind: kindProbabilistic, probability: 0.25}))
	s := newSampler(t, "grpc://"+srv.addr, nil)
	st := waitVersion(t, s, 1)
	require.Equal(t, "shop", *srv.service.Load())
	require.Equal(t, "probabilistic", st.Type)
	require.Equal(t, 0.25, st.DefaultProbability)

	b := encodeResponse(response{kind: kindRateLimiting, rate: 5})
	srv.answer.Store(&b)
	st = waitVersion(t, s, 2)
	require.Equal(t, "ratelimiting", st.Type)

	b = encodeResponse(response{kind: kindPerOperation, probability: 0.5, operations: []operation{{"GET /a", 0.125}}})
	srv.answer.Store(&b)
	st = waitVersion(t, s, 3)
	require.Equal(t, "peroperation", st.Type)
	require.Equal(t, 0.5, st.DefaultProbability)
	require.Equal(t, map[string]float64{"GET /a": 0.125}, st.Operations)

	// A broken answer keeps the last good strategy.
	b = []byte{0x12, 0x7f}
	srv.answer.Store(&b)
	failures := s.Stats().Failures
	require.Eventually(t, func() bool { return s.Stats().Failures > failures }, 10*time.Second, 10*time.Millisecond)
	st = s.Stats()
	require.Equal(t, uint64(3), st.Version)
	require.Contains(t, st.LastError, "not a strategy")
	require.Equal(t, 0.5, st.DefaultProbability)
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(encodeResponse(response{kind: kindProbabilistic, probability: 0.5}))
	f.Add(encodeResponse(response{kind: kindRateLimiting, rate: 3}))
	f.Add(encodeResponse(response{kind: kindPerOperation, probability: 0.5, lowerBound: 2, operations: []operation{{"a", 0.2}, {"b", 1}}}))
	f.Fuzz(func(t *testing.T, wire []byte) {
		r, err := decodeResponse(wire, 8)
		if err != nil {
			return
		}
		requireValid(t, r, 8)
		// What was read writes back to the same strategy.
		again, err := decodeResponse(encodeResponse(r), 8)
		require.NoError(t, err)
		again.dropped = r.dropped
		require.True(t, again.equal(r), "%+v != %+v", again, r)
		compile(r, 1, time.Now(), 8, time.Now) // must not panic
	})
}
