package semconv_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"

	"github.com/flowtrace/flowtrace/semconv"
	"github.com/flowtrace/flowtrace/tracer"
)

type discard struct{}

func (discard) OnEnd(*tracer.SpanData)           {}
func (discard) ForceFlush(context.Context) error { return nil }
func (discard) Shutdown(context.Context) error   { return nil }

func BenchmarkCheckTag(b *testing.B) {
	var status any = 200
	for _, mode := range []semconv.Mode{semconv.Off, semconv.Warn, semconv.Strict} {
		e := semconv.NewEnforcer(nil, mode, semconv.WithLogger(slog.New(slog.DiscardHandler)))
		b.Run(mode.String()+"/valid", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.CheckTag("http.status_code", status)
			}
		})
		b.Run(mode.String()+"/enum", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.CheckTag("traffic_source", "load-test")
			}
		})
		b.Run(mode.String()+"/pattern", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.CheckTag("critical_operation", "checkout")
			}
		})
		b.Run(mode.String()+"/unknown", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.CheckTag("http.statuscode", status)
			}
		})
		b.Run(mode.String()+"/coerced", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.CheckTag("http.status_code", "200")
			}
		})
		e.Close()
	}
}

// BenchmarkSpan5Tags measures a sampled server span with five valid tags
// through a tracer without a policy and with an enforcer in each mode.
func BenchmarkSpan5Tags(b *testing.B) {
	run := func(b *testing.B, p tracer.TagPolicy) {
		opts := []tracer.Option{tracer.WithProcessor(discard{})}
		if p != nil {
			opts = append(opts, tracer.WithTagPolicy(p))
		}
		tr := tracer.New(opts...)
		b.ReportAllocs()
		for b.Loop() {
			sp := tr.StartSpan("GET /cart", ext.SpanKindRPCServer)
			semconv.HTTPMethod.Set(sp, semconv.HTTPMethodGet)
			semconv.HTTPRoute.Set(sp, "/cart")
			semconv.HTTPStatusCode.Set(sp, 200)
			semconv.CriticalOperation.Set(sp, "checkout")
			semconv.TrafficSource.Set(sp, semconv.TrafficSourceWeb)
			sp.Finish()
		}
	}
	b.Run("no-policy", func(b *testing.B) { run(b, nil) })
	for _, mode := range []semconv.Mode{semconv.Warn, semconv.Strict} {
		e := semconv.NewEnforcer(nil, mode, semconv.WithLogger(slog.New(slog.DiscardHandler)))
		b.Run(mode.String(), func(b *testing.B) { run(b, e) })
		e.Close()
	}
	_ = opentracing.Tag{}
}

// BenchmarkSuggest: the "did you mean" suggestion for a typo and for a
// hostile 1 MiB key (no suggestion, no distance computed).
func BenchmarkSuggest(b *testing.B) {
	reg := semconv.Default()
	for name, key := range map[string]string{
		"typo": "http.statuscode",
		"1MiB": strings.Repeat("k", 1<<20),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = reg.Suggest(key)
			}
		})
	}
}
