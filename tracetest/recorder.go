package tracetest

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/tracer"
)

// DefaultMaxRecorded bounds the spans a Recorder keeps.
const DefaultMaxRecorded = 100_000

// Recorder records flowtrace spans in memory, in the same [Span] model the
// Receiver gives, without a network round trip: it is both a
// tracer.SpanProcessor (spans are recorded when Finish returns) and an
// exporter for export.NewBatcher (Export and Shutdown), so a test can plug
// it in where the tracer's real pipeline hands spans over. Attribute
// values come out as OTLP would carry them (ints as int64, floats as
// float64, uint64 above MaxInt64 as decimal strings, other types as their
// fmt form; invalid UTF-8 replaced), so a test written against the
// Receiver passes against the Recorder.
//
// A Recorder keeps at most DefaultMaxRecorded spans (NewRecorderMax sets
// another bound); later spans are counted in Dropped. It is safe for
// concurrent use. The zero value is not usable: use NewRecorder.
type Recorder struct {
	max int

	store    spanStore
	shutdown bool // guarded by store.mu
}

var _ tracer.SpanProcessor = (*Recorder)(nil)

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return NewRecorderMax(DefaultMaxRecorded) }

// NewRecorderMax returns an empty Recorder that keeps at most max spans
// (at least 1).
func NewRecorderMax(max int) *Recorder {
	return &Recorder{max: max1(max)}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// OnEnd records s (tracer.SpanProcessor). Spans ended after Shutdown are
// counted as dropped.
func (r *Recorder) OnEnd(s *tracer.SpanData) {
	if s == nil {
		return
	}
	r.add(s)
}

// Export records spans (the export.Exporter method, for a Recorder behind
// a Batcher). It never fails before Shutdown.
func (r *Recorder) Export(_ context.Context, spans []*tracer.SpanData) error {
	r.add(spans...)
	return nil
}

// ForceFlush does nothing: spans are recorded as they end.
func (r *Recorder) ForceFlush(context.Context) error { return nil }

// Shutdown stops recording; what was recorded stays readable.
func (r *Recorder) Shutdown(context.Context) error {
	r.store.mu.Lock()
	r.shutdown = true
	r.store.mu.Unlock()
	return nil
}

func (r *Recorder) add(spans ...*tracer.SpanData) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	// Spans keep their instrumentation scope: a ScopeSpans per run of one
	// scope keeps the order they ended in. The zero scope stays empty (no
	// exporter named it).
	var ss ptrace.ScopeSpans
	var last tracer.Scope
	for _, s := range spans {
		if s == nil {
			continue
		}
		if rs.ScopeSpans().Len() == 0 || s.Scope != last {
			ss = rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName(utf8Valid(s.Scope.Name))
			ss.Scope().SetVersion(utf8Valid(s.Scope.Version))
			last = s.Scope
		}
		fill(ss.Spans().AppendEmpty(), s)
	}
	flat := flatten(td)
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	if r.shutdown {
		r.store.dropped += int64(len(flat))
		return
	}
	r.store.keepLocked(flat, r.max)
}

// Spans returns a copy of every span recorded so far, in the order they
// ended.
func (r *Recorder) Spans() []Span {
	return r.store.snapshot()
}

// Len returns how many spans are recorded.
func (r *Recorder) Len() int {
	return r.store.count()
}

// Dropped returns how many spans were not kept: beyond the bound, or ended
// after Shutdown.
func (r *Recorder) Dropped() int64 {
	return r.store.droppedCount()
}

// FindSpan returns the first recorded span with the given name.
func (r *Recorder) FindSpan(name string) (Span, bool) {
	return r.store.find(name)
}

// Reset forgets every recorded span and the drop counter.
func (r *Recorder) Reset() {
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	r.store.resetLocked()
}

// WaitForSpans waits until at least n spans are recorded and returns them
// all, or returns what it has with an error when ctx is done first. It is
// for spans that other goroutines end (a Kafka writer's completion, a
// server's handler); it is woken by each recorded span, it does not poll.
func (r *Recorder) WaitForSpans(ctx context.Context, n int) ([]Span, error) {
	return r.store.wait(ctx, n, "recorded")
}

// fill writes s into ps as the OTLP conversion does.
func fill(ps ptrace.Span, s *tracer.SpanData) {
	ps.SetTraceID(pcommon.TraceID(s.SpanContext.TraceID))
	ps.SetSpanID(pcommon.SpanID(s.SpanContext.SpanID))
	if s.ParentSpanID.IsValid() {
		ps.SetParentSpanID(pcommon.SpanID(s.ParentSpanID))
	}
	ps.TraceState().FromRaw(utf8Valid(s.SpanContext.TraceState))
	ps.SetFlags(uint32(s.SpanContext.Flags))
	ps.SetName(utf8Valid(s.Name))
	ps.SetKind(ptrace.SpanKind(s.Kind))
	ps.SetStartTimestamp(timestamp(s.Start))
	ps.SetEndTimestamp(timestamp(s.End))
	putAttrs(ps.Attributes(), s.Attributes)
	ps.SetDroppedAttributesCount(uint32(max(0, s.DroppedAttributes)))
	ps.SetDroppedEventsCount(uint32(max(0, s.DroppedEvents)))
	ps.SetDroppedLinksCount(uint32(max(0, s.DroppedLinks)))
	ps.Status().SetCode(ptrace.StatusCode(s.Status))
	ps.Status().SetMessage(utf8Valid(s.StatusMessage))
	for i := range s.Events {
		e := &s.Events[i]
		pe := ps.Events().AppendEmpty()
		pe.SetTimestamp(timestamp(e.Time))
		pe.SetName(utf8Valid(e.Name))
		putAttrs(pe.Attributes(), e.Attributes)
	}
	for i := range s.Links {
		l := &s.Links[i]
		pl := ps.Links().AppendEmpty()
		pl.SetTraceID(pcommon.TraceID(l.SpanContext.TraceID))
		pl.SetSpanID(pcommon.SpanID(l.SpanContext.SpanID))
		pl.TraceState().FromRaw(utf8Valid(l.SpanContext.TraceState))
		pl.SetFlags(uint32(l.SpanContext.Flags))
		if l.Type != "" {
			// The key export.RefTypeKey names; tracetest cannot import export.
			pl.Attributes().PutStr("opentracing.ref_type", l.Type)
		}
	}
}

func putAttrs(m pcommon.Map, attrs []tracer.Attribute) {
	m.EnsureCapacity(len(attrs))
	for _, a := range attrs {
		putValue(m.PutEmpty(utf8Valid(a.Key)), a.Value)
	}
}

func putValue(pv pcommon.Value, v any) {
	switch v := v.(type) {
	case string:
		pv.SetStr(utf8Valid(v))
	case bool:
		pv.SetBool(v)
	case int:
		pv.SetInt(int64(v))
	case int8:
		pv.SetInt(int64(v))
	case int16:
		pv.SetInt(int64(v))
	case int32:
		pv.SetInt(int64(v))
	case int64:
		pv.SetInt(v)
	case uint8:
		pv.SetInt(int64(v))
	case uint16:
		pv.SetInt(int64(v))
	case uint32:
		pv.SetInt(int64(v))
	case uint:
		putUint(pv, uint64(v))
	case uint64:
		putUint(pv, v)
	case uintptr:
		putUint(pv, uint64(v))
	case float32:
		pv.SetDouble(float64(v))
	case float64:
		pv.SetDouble(v)
	case []byte:
		pv.SetEmptyBytes().FromRaw(v)
	case []string:
		sl := pv.SetEmptySlice()
		for _, e := range v {
			sl.AppendEmpty().SetStr(utf8Valid(e))
		}
	case []bool:
		sl := pv.SetEmptySlice()
		for _, e := range v {
			sl.AppendEmpty().SetBool(e)
		}
	case []int64:
		sl := pv.SetEmptySlice()
		for _, e := range v {
			sl.AppendEmpty().SetInt(e)
		}
	case []float64:
		sl := pv.SetEmptySlice()
		for _, e := range v {
			sl.AppendEmpty().SetDouble(e)
		}
	case nil:
	default:
		pv.SetStr(utf8Valid(fmt.Sprint(v)))
	}
}

func putUint(pv pcommon.Value, v uint64) {
	if v > math.MaxInt64 {
		pv.SetStr(strconv.FormatUint(v, 10))
		return
	}
	pv.SetInt(int64(v))
}

func utf8Valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// timestamp is the OTLP time of t; the zero time is 0 (unset).
func timestamp(t time.Time) pcommon.Timestamp {
	if t.IsZero() || t.UnixNano() < 0 {
		return 0
	}
	return pcommon.NewTimestampFromTime(t)
}
