package export

import (
	"context"
	"errors"
	"sync"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

// encodedSpan is a finished span as the Batcher queues it for an
// OTLPExporter: its OTLP Span message and its instrumentation scope.
type encodedSpan struct {
	scope tracer.Scope
	b     []byte
}

// spanEncoder is an Exporter that takes spans encoded when they finish
// (OTLPExporter): a Batcher in front of one encodes in OnEnd (appendSpan,
// into its arena) and queues bytes instead of *tracer.SpanData.
// exportEncoded must not keep any span's bytes once it returns: the
// Batcher reuses them (requestBytes copies them into a fresh request).
type spanEncoder interface {
	encodeSpan(s *tracer.SpanData) encodedSpan
	exportEncoded(ctx context.Context, spans []encodedSpan) error
}

var _ spanEncoder = (*OTLPExporter)(nil)

// encodeSpan encodes s into a buffer of exactly its size: the span is
// encoded into a pooled scratch buffer first, then copied. Allocating
// fewer bytes per span is what spaces garbage collections out.
func (e *OTLPExporter) encodeSpan(s *tracer.SpanData) encodedSpan {
	sp := scratchPool.Get().(*[]byte)
	buf := appendSpan((*sp)[:0], s)
	out := make([]byte, len(buf))
	copy(out, buf)
	if cap(buf) <= maxPooledScratch {
		*sp = buf
		scratchPool.Put(sp)
	}
	return encodedSpan{scope: s.Scope, b: out}
}

// scratchPool holds encoding buffers; one that grew past maxPooledScratch
// (a span with huge tags) is left to the garbage collector.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledScratch = 64 << 10

// encItem is a span of the batch being sent, by its scope's index.
type encItem struct {
	scope int
	b     []byte
}

// exportEncoded sends spans encoded when they finished (the Batcher's
// path; Export encodes its batch and joins here).
func (e *OTLPExporter) exportEncoded(ctx context.Context, spans []encodedSpan) error {
	if e.isStopped() {
		return errExporterShutdown
	}
	if len(spans) == 0 {
		return nil
	}
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	return e.exportLocked(ctx, spans)
}

// exportLocked sends encoded spans: one ScopeSpans per scope in the order
// scopes first appear, requests within the request limit, a span alone
// over it trimmed, a request the collector finds too large split in
// halves, and the outcome counted per span. Called with sendMu held.
func (e *OTLPExporter) exportLocked(ctx context.Context, spans []encodedSpan) error {
	if !e.encInit {
		e.resourceMsg = appendResource(nil, e.resource)
		e.encInit = true
	}
	def := tracer.Scope{Name: e.cfg.name, Version: e.cfg.version}
	all := e.encItems[:0]
	if cap(all) < len(spans) {
		all = make([]encItem, 0, len(spans))
	}
	all = all[:len(spans)]
	e.encScopes = e.encScopes[:0]
	e.encCounts = e.encCounts[:0]
	starts := e.scopeBase[:0]
	if sameScope(spans) {
		// The usual batch: one scope, in order.
		sc := spans[0].scope
		if sc == (tracer.Scope{}) {
			sc = def
		}
		e.encScopes = append(e.encScopes, sc)
		e.encCounts = append(e.encCounts, len(spans))
		for i := range spans {
			all[i] = encItem{b: spans[i].b}
		}
	} else {
		// Group by scope, keeping the order scopes first appear in.
		idx := e.encIdx[:0]
		for i := range spans {
			sc := spans[i].scope
			if sc == (tracer.Scope{}) {
				sc = def
			}
			g := -1
			for j := range e.encScopes {
				if e.encScopes[j] == sc {
					g = j
					break
				}
			}
			if g < 0 {
				g = len(e.encScopes)
				e.encScopes = append(e.encScopes, sc)
				e.encCounts = append(e.encCounts, 0)
			}
			e.encCounts[g]++
			idx = append(idx, g)
		}
		e.encIdx = idx
		// Counting sort: spans of scope g go from start[g] on, in their
		// order.
		n := 0
		for _, c := range e.encCounts {
			starts = append(starts, n)
			n += c
		}
		for i := range spans {
			g := idx[i]
			all[starts[g]] = encItem{scope: g, b: spans[i].b}
			starts[g]++
		}
	}
	// The encoded scopes, and the size of each scope's ScopeSpans without
	// spans.
	e.encHeaders = e.encHeaders[:0]
	scopeBase := starts[:0]
	for _, sc := range e.encScopes {
		h := appendScope(nil, sc)
		e.encHeaders = append(e.encHeaders, h)
		scopeBase = append(scopeBase, lenFieldSize(lenFieldSize(len(h)))+scopeSlack)
	}
	e.scopeBase = scopeBase
	base := lenFieldSize(lenFieldSize(len(e.resourceMsg))) + requestSlack
	var out outcome
	start, size, last := 0, base, -1
	for i := range all {
		it := &all[i]
		if one := base + scopeBase[it.scope] + lenFieldSize(len(it.b)); one > e.limit {
			it.b = e.trimEncoded(it.b, e.limit-base-scopeBase[it.scope])
		}
		n := lenFieldSize(len(it.b))
		if it.scope != last {
			n += scopeBase[it.scope]
		}
		if i > start && size+n > e.limit {
			e.sendEncoded(ctx, all[start:i], &out, 0)
			start, size = i, base
			// The new request starts this span's scope again.
			n = lenFieldSize(len(it.b)) + scopeBase[it.scope]
		}
		size += n
		last = it.scope
	}
	e.sendEncoded(ctx, all[start:], &out, 0)
	clear(all)
	e.encItems = all[:0]
	return out.result()
}

// sameScope reports whether spans all have one scope (as given: the zero
// scope and the exporter's own, given explicitly, count as two here, and
// are grouped by the general path).
func sameScope(spans []encodedSpan) bool {
	first := spans[0].scope
	for i := 1; i < len(spans); i++ {
		if spans[i].scope != first {
			return false
		}
	}
	return true
}

// result is the error an export returns for its outcome.
func (o *outcome) result() error {
	switch {
	case o.failed == 0 && o.unconfirmed == 0 && o.err == nil && o.rejected == 0 && o.msg == "":
		return nil
	case o.failed == 0 && o.unconfirmed == 0 && o.err == nil:
		return &RejectedError{Rejected: o.rejected, Message: o.msg}
	}
	return &OutcomeError{Failed: o.failed, Rejected: o.rejected, Unconfirmed: o.unconfirmed, Message: o.msg, Err: o.err}
}

// trimEncoded makes an encoded span fit in budget bytes (as a field of
// ScopeSpans) by the rules of trim: the rare span that alone exceeds a
// request is decoded, trimmed and encoded again.
func (e *OTLPExporter) trimEncoded(b []byte, budget int) []byte {
	if lenFieldSize(len(b)) <= budget {
		return b
	}
	var sp tracepb.Span
	if err := proto.Unmarshal(b, &sp); err != nil {
		// Not reachable for bytes appendSpan wrote; sent as they are, the
		// collector decides.
		return b
	}
	e.trim(&sp, budget)
	out, err := proto.Marshal(&sp)
	if err != nil {
		return b
	}
	return out
}

// requestBytes encodes the request of chunk (grouped by scope):
// resource, then per scope its header and its spans' bytes. The buffer is
// fresh: a transport may still reference the bytes of an abandoned call
// after Send returned.
func (e *OTLPExporter) requestBytes(chunk []encItem) []byte {
	rsSize := lenFieldSize(len(e.resourceMsg))
	forEachScope(chunk, func(g int, spans []encItem) {
		rsSize += lenFieldSize(e.scopeSpansSize(g, spans))
	})
	b := make([]byte, 0, lenFieldSize(rsSize))
	b = appendLenPrefix(b, fRequestResourceSpans, rsSize)
	b = appendLenPrefix(b, fResourceSpansResource, len(e.resourceMsg))
	b = append(b, e.resourceMsg...)
	forEachScope(chunk, func(g int, spans []encItem) {
		b = appendLenPrefix(b, fResourceSpansScopeSpans, e.scopeSpansSize(g, spans))
		b = appendLenPrefix(b, fScopeSpansScope, len(e.encHeaders[g]))
		b = append(b, e.encHeaders[g]...)
		for _, it := range spans {
			b = appendLenPrefix(b, fScopeSpansSpans, len(it.b))
			b = append(b, it.b...)
		}
	})
	return b
}

func (e *OTLPExporter) scopeSpansSize(g int, spans []encItem) int {
	n := lenFieldSize(len(e.encHeaders[g]))
	for _, it := range spans {
		n += lenFieldSize(len(it.b))
	}
	return n
}

// forEachScope calls f for each run of chunk's spans of one scope.
func forEachScope(chunk []encItem, f func(g int, spans []encItem)) {
	for i := 0; i < len(chunk); {
		j := i + 1
		for j < len(chunk) && chunk[j].scope == chunk[i].scope {
			j++
		}
		f(chunk[i].scope, chunk[i:j])
		i = j
	}
}

// sendEncoded sends one request of chunk; a request the collector finds
// too large is split in halves, and a single span trimmed.
func (e *OTLPExporter) sendEncoded(ctx context.Context, chunk []encItem, out *outcome, depth int) {
	if len(chunk) == 0 {
		return
	}
	b := e.requestBytes(chunk)
	start := time.Now()
	resp, err := e.transport.Send(ctx, b)
	switch {
	case err == nil:
		out.rejected += min(max(resp.RejectedSpans, 0), int64(len(chunk)))
		if resp.ErrorMessage != "" {
			out.msg = resp.ErrorMessage
		}
		sdklog.Debugf(e.cfg.logger, "export: request of %d span(s), %d bytes: accepted, %d rejected, in %v", len(chunk), len(b), resp.RejectedSpans, time.Since(start).Round(time.Microsecond))
	case errors.Is(err, ErrRequestTooLarge) && ctx.Err() == nil && depth < maxSplitDepth && (len(chunk) > 1 || len(b) > MinMaxRequestBytes):
		// The collector's limit is below ours: remember half this size.
		e.limit = max(MinMaxRequestBytes, min(e.limit, len(b)/2))
		sdklog.Warnf(e.cfg.logger, "export: the collector refused a request of %d bytes as too large; sending at most %d bytes per request", len(b), e.limit)
		if len(chunk) == 1 {
			chunk[0].b = e.trimEncoded(chunk[0].b, e.limit-(len(b)-lenFieldSize(len(chunk[0].b))))
			e.sendEncoded(ctx, chunk, out, depth+1)
			return
		}
		half := len(chunk) / 2
		e.sendEncoded(ctx, chunk[:half], out, depth+1)
		e.sendEncoded(ctx, chunk[half:], out, depth+1)
	case errors.Is(err, ErrUnconfirmed):
		out.unconfirmed += int64(len(chunk))
		out.err = err
		sdklog.Debugf(e.cfg.logger, "export: request of %d span(s), %d bytes: sent, no answer: %v", len(chunk), len(b), err)
	default:
		out.failed += int64(len(chunk))
		out.err = err
		sdklog.Debugf(e.cfg.logger, "export: request of %d span(s), %d bytes: failed: %v", len(chunk), len(b), err)
	}
}
