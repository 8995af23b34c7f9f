package semconv_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	"github.com/stretchr/testify/require"

	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

// recorder keeps finished spans in memory.
type recorder struct {
	mu    sync.Mutex
	spans []*tracer.SpanData
}

func (r *recorder) OnEnd(s *tracer.SpanData) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}
func (r *recorder) ForceFlush(context.Context) error { return nil }
func (r *recorder) Shutdown(context.Context) error   { return nil }

func (r *recorder) last() *tracer.SpanData {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spans[len(r.spans)-1]
}

func attr(s *tracer.SpanData, key string) (any, bool) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]semconv.Mode{"": semconv.Off, "off": semconv.Off, "WARN": semconv.Warn, " strict ": semconv.Strict} {
		got, err := semconv.ParseMode(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
		if in != "" {
			require.Equal(t, strings.ToLower(strings.TrimSpace(in)), got.String())
		}
	}
	_, err := semconv.ParseMode("loud")
	require.ErrorContains(t, err, `unknown mode "loud"`)

	require.Nil(t, semconv.NewPolicy(nil, semconv.Off), "off installs nothing")
	t.Setenv(semconv.EnvMode, "strict")
	p, err := semconv.PolicyFromEnv()
	require.NoError(t, err)
	require.Equal(t, semconv.Strict, p.(*semconv.Enforcer).Mode())
	t.Setenv(semconv.EnvMode, "")
	p, err = semconv.PolicyFromEnv()
	require.NoError(t, err)
	require.Nil(t, p)
	t.Setenv(semconv.EnvMode, "bogus")
	_, err = semconv.PolicyFromEnv()
	require.Error(t, err)
}

// TestCheckTag judges single tags in strict mode.
func TestCheckTag(t *testing.T) {
	e := semconv.NewEnforcer(nil, semconv.Strict, semconv.WithLogger(slog.New(slog.DiscardHandler)))
	defer e.Close()
	for _, tc := range []struct {
		key     string
		value   any
		verdict tracer.TagVerdict
		coerced any
	}{
		{"http.method", "GET", tracer.TagOK, nil},
		{"http.method", "FETCH", tracer.TagDropped, nil},
		{"http.status_code", 200, tracer.TagOK, nil},
		{"http.status_code", uint16(503), tracer.TagOK, nil},
		{"http.status_code", "200", tracer.TagCoerced, int64(200)},
		{"http.status_code", 200.0, tracer.TagCoerced, int64(200)},
		{"http.status_code", 200.5, tracer.TagDropped, nil},
		{"http.status_code", "OK", tracer.TagDropped, nil},
		{"http.status_code", true, tracer.TagDropped, nil},
		{"rpc.grpc.status_code", 16, tracer.TagOK, nil},
		{"rpc.grpc.status_code", 17, tracer.TagDropped, nil},
		{"rpc.grpc.status_code", "5", tracer.TagCoerced, int64(5)},
		{"rpc.grpc.status_code", uint64(1 << 63), tracer.TagDropped, nil},
		{"sampling.probability", 0.5, tracer.TagOK, nil},
		{"sampling.probability", float32(0.5), tracer.TagOK, nil},
		{"sampling.probability", 1, tracer.TagCoerced, 1.0},
		{"sampling.probability", int64(1 << 60), tracer.TagDropped, nil},
		{"sampling.probability", "0.25", tracer.TagCoerced, 0.25},
		{"error", true, tracer.TagOK, nil},
		{"error", "true", tracer.TagCoerced, true},
		{"error", 1, tracer.TagDropped, nil},
		{"http.url", "/x", tracer.TagOK, nil},
		{"http.url", 42, tracer.TagCoerced, "42"},
		{"http.url", []byte("/x"), tracer.TagOK, nil},
		{"http.url", struct{}{}, tracer.TagDropped, nil},
		{"http.url", nil, tracer.TagDropped, nil},
		{"span.kind", ext.SpanKindRPCServerEnum, tracer.TagOK, nil},
		{"span.kind", "rpc", tracer.TagDropped, nil},
		{"traffic_source", semconv.TrafficSourceLoadTest, tracer.TagOK, nil},
		{"traffic_source", "loadtest", tracer.TagDropped, nil},
		{"critical_operation", "add-to-cart", tracer.TagOK, nil},
		{"critical_operation", "Add To Cart", tracer.TagDropped, nil},
		{"critical_operation", fmtStringer{"checkout"}, tracer.TagOK, nil},
		{"peer.ipv4", "10.0.0.1", tracer.TagOK, nil},
		{"peer.ipv4", uint32(167772161), tracer.TagDropped, nil},
		{"http.request.header.x-tenant", "acme", tracer.TagOK, nil},
		{"http.status", 200, tracer.TagDropped, nil},
		{"event", "error", tracer.TagDropped, nil},
		{"error.kind", "timeout", tracer.TagOK, nil},
	} {
		v, verdict := e.CheckTag(tc.key, tc.value)
		require.Equal(t, tc.verdict, verdict, "%s=%#v", tc.key, tc.value)
		if verdict == tracer.TagCoerced {
			require.Equal(t, tc.coerced, v, "%s=%#v", tc.key, tc.value)
		}
	}
	s := e.Stats()
	require.Equal(t, uint64(7), s.ByKind[semconv.Coerced])
	require.Equal(t, uint64(1), s.ByKind[semconv.UnknownKey])
	require.Equal(t, uint64(1), s.ByKind[semconv.Misplaced])
	require.Equal(t, uint64(1), s.ByKey["http.status"])
	require.Equal(t, uint64(5), s.ByKey["http.status_code"])
}

type fmtStringer struct{ s string }

func (f fmtStringer) String() string { return f.s }

func TestDeprecated(t *testing.T) {
	reg, err := semconv.Load(strings.NewReader(`extends: default
tags:
  - key: old.key
    type: string
    stability: deprecated
    replaced_by: http.route
`), "org.yaml")
	require.NoError(t, err)
	e := semconv.NewEnforcer(reg, semconv.Strict, semconv.WithLogger(slog.New(slog.DiscardHandler)))
	defer e.Close()
	_, v := e.CheckTag("old.key", "x")
	require.Equal(t, tracer.TagViolation, v, "deprecated keys are kept and counted")
	require.Equal(t, uint64(1), e.Stats().ByKind[semconv.DeprecatedKey])
}

// TestModes runs spans through a tracer with an enforcer in each mode.
func TestModes(t *testing.T) {
	type want struct {
		attrs      map[string]any // expected values; nil value = absent
		violations int            // 0 = no semconv.violations tag
	}
	server := func(sp opentracing.Span) {
		ext.SpanKindRPCServer.Set(sp)
		semconv.HTTPMethod.Set(sp, semconv.HTTPMethodGet)
		sp.SetTag("http.status_code", "200")
		sp.SetTag("http.statuscode", 200)
		sp.SetTag("traffic_source", "bot")
		semconv.TrafficSource.Set(sp, semconv.TrafficSourceWeb)
	}
	incomplete := func(sp opentracing.Span) {
		ext.SpanKindRPCClient.Set(sp)
		semconv.HTTPMethod.Set(sp, "GET")
	}
	clean := func(sp opentracing.Span) {
		ext.SpanKindRPCServer.Set(sp)
		semconv.RPCSystem.Set(sp, "grpc")
	}
	for _, tc := range []struct {
		name string
		mode semconv.Mode
		span func(opentracing.Span)
		want want
	}{
		{"warn keeps everything", semconv.Warn, server, want{map[string]any{"http.status_code": "200", "http.statuscode": 200, "traffic_source": "web"}, 0}},
		{"strict coerces and drops", semconv.Strict, server, want{map[string]any{"http.status_code": int64(200), "http.statuscode": nil, "traffic_source": "web", "http.method": "GET"}, 3}},
		{"strict counts missing required tags", semconv.Strict, incomplete, want{map[string]any{"http.method": "GET"}, 1}},
		{"warn leaves missing tags uncounted", semconv.Warn, incomplete, want{nil, 0}},
		{"clean span", semconv.Strict, clean, want{map[string]any{"rpc.system": "grpc"}, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			rec := &recorder{}
			e := semconv.NewEnforcer(nil, tc.mode, semconv.WithLogger(slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))))
			defer e.Close()
			tr := tracer.New(tracer.WithTagPolicy(e), tracer.WithProcessor(rec))
			sp := tr.StartSpan("op")
			tc.span(sp)
			sp.Finish()
			d := rec.last()
			for k, v := range tc.want.attrs {
				got, ok := attr(d, k)
				if v == nil {
					require.False(t, ok, "%s should be dropped", k)
					continue
				}
				require.True(t, ok, k)
				require.Equal(t, v, got, k)
			}
			got, ok := attr(d, tracer.ViolationsKey)
			if tc.want.violations == 0 {
				require.False(t, ok, "violations: %v", got)
			} else {
				require.Equal(t, tc.want.violations, got)
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

// TestWarnLogsRateLimited: one line per key per interval, counts exact.
func TestWarnLogsRateLimited(t *testing.T) {
	out := &syncWriter{w: &bytes.Buffer{}}
	e := semconv.NewEnforcer(nil, semconv.Warn,
		semconv.WithLogger(slog.New(slog.NewTextHandler(out, nil))),
		semconv.WithLogInterval(time.Hour))
	defer e.Close()
	for range 100 {
		_, v := e.CheckTag("http.statuscode", 200)
		require.Equal(t, tracer.TagOK, v)
		e.CheckTag("http.status_code", "abc")
	}
	e.CheckFinish("GET /", tracer.KindServer, nil)
	require.Eventually(t, func() bool { return strings.Count(out.String(), "\n") == 3 }, 2*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	logs := out.String()
	require.Equal(t, 3, strings.Count(logs, "\n"), logs)
	require.Contains(t, logs, `key=http.statuscode violation="unknown key"`)
	require.Contains(t, logs, `did you mean http.status_code?`)
	require.Contains(t, logs, `key=http.status_code violation="wrong type"`)
	require.Contains(t, logs, `key=required:server violation="missing required tag"`)
	s := e.Stats()
	require.Equal(t, uint64(100), s.ByKey["http.statuscode"])
	require.Equal(t, uint64(100), s.ByKind[semconv.WrongType])
	require.Equal(t, uint64(1), s.ByKind[semconv.MissingRequired], "the closest group (rpc) misses 1 tag")
	require.Equal(t, uint64(201), s.Total())
}

func TestUnknownKeysBounded(t *testing.T) {
	e := semconv.NewEnforcer(nil, semconv.Warn, semconv.WithMaxUnknownKeys(2), semconv.WithLogger(slog.New(slog.DiscardHandler)))
	defer e.Close()
	for _, k := range []string{"a", "b", "c", "d", "a"} {
		e.CheckTag(k, 1)
	}
	require.Equal(t, map[string]uint64{"a": 2, "b": 1, semconv.OtherKeys: 2}, e.Stats().ByKey)
}

func TestConcurrentChecks(t *testing.T) {
	e := semconv.NewEnforcer(nil, semconv.Strict, semconv.WithLogger(slog.New(slog.DiscardHandler)), semconv.WithLogInterval(time.Nanosecond))
	defer e.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				e.CheckTag("http.method", "GET")
				e.CheckTag("unknown."+string(rune('a'+g)), i)
				e.CheckFinish("op", tracer.KindServer, nil)
				_ = e.Stats()
			}
		})
	}
	wg.Wait()
	require.Equal(t, uint64(8*500), e.Stats().ByKind[semconv.UnknownKey])
}
