package export

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowtrace/flowtrace/propagation"
	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

var (
	testStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	testRes   = []tracer.Attribute{{Key: "service.name", Value: "checkout"}, {Key: "host.cores", Value: 2}}
)

func traceIDOf(i int) propagation.TraceID {
	var t propagation.TraceID
	t[0] = 0xab
	binary.BigEndian.PutUint64(t[8:], uint64(i)+1)
	return t
}

func spanIDOf(i int) propagation.SpanID {
	var s propagation.SpanID
	s[0] = 0xcd
	binary.BigEndian.PutUint32(s[4:], uint32(i)+1)
	return s
}

// mkSpan builds span i: child of span i-1 of the same trace (trace i/10),
// with every attribute kind, an event and a follows_from link.
func mkSpan(i int) *tracer.SpanData {
	s := &tracer.SpanData{
		SpanContext: propagation.SpanContext{
			TraceID: traceIDOf(i / 10), SpanID: spanIDOf(i),
			Flags: propagation.FlagSampled, TraceState: "vendor=x",
		},
		Name:  fmt.Sprintf("op-%d", i),
		Kind:  tracer.KindServer,
		Start: testStart.Add(time.Duration(i) * time.Millisecond),
		End:   testStart.Add(time.Duration(i)*time.Millisecond + 500*time.Microsecond),
		Attributes: []tracer.Attribute{
			{Key: "i", Value: i},
			{Key: "http.method", Value: "GET"},
			{Key: "ok", Value: true},
			{Key: "ratio", Value: 0.5},
		},
		Events: []tracer.Event{{Time: testStart, Name: "log", Attributes: []tracer.Attribute{{Key: "event", Value: "cache miss"}}}},
		Links: []tracer.Link{{
			SpanContext: propagation.SpanContext{TraceID: traceIDOf(999), SpanID: spanIDOf(999), Flags: 1},
			Type:        "follows_from",
		}},
		Status:            tracer.StatusError,
		StatusMessage:     "boom",
		DroppedAttributes: 1, DroppedEvents: 2, DroppedLinks: 3,
	}
	if i%10 != 0 {
		s.ParentSpanID = spanIDOf(i - 1)
	}
	return s
}

// fakeExporter records or fails exports, optionally blocking until ctx ends
// or release is closed.
type fakeExporter struct {
	fail    error
	block   bool
	release chan struct{}

	calls    atomic.Int64
	spans    atomic.Int64
	shutdown atomic.Int64

	mu      sync.Mutex
	batches [][]*tracer.SpanData
}

func newFake() *fakeExporter { return &fakeExporter{release: make(chan struct{})} }

func (f *fakeExporter) Export(ctx context.Context, spans []*tracer.SpanData) error {
	f.calls.Add(1)
	if f.block {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.release:
		}
	}
	if f.fail != nil {
		return f.fail
	}
	f.spans.Add(int64(len(spans)))
	f.mu.Lock()
	f.batches = append(f.batches, append([]*tracer.SpanData(nil), spans...))
	f.mu.Unlock()
	return nil
}

func (f *fakeExporter) Shutdown(context.Context) error {
	f.shutdown.Add(1)
	return nil
}

var errFake = errors.New("collector says no")

// lineLogger records the lines of an SDK logger writing to it.
type lineLogger struct {
	mu    sync.Mutex
	lines []string
	sdk   *slog.Logger
	level sdklog.Level
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.Split(strings.TrimSuffix(string(p), "\n"), "\n")...)
	return len(p), nil
}

// logger returns an SDK logger (info level unless level was set, no rate
// limit of its own) writing to l.
func (l *lineLogger) logger() *slog.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sdk == nil {
		level := l.level
		if level == 0 {
			level = sdklog.LevelInfo
		}
		l.sdk = sdklog.NewSlog(l, level, sdklog.WithRateLimit(1<<20, time.Nanosecond))
	}
	return l.sdk
}

func (l *lineLogger) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}
