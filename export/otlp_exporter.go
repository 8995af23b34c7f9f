package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/flowtrace/flowtrace/sdklog"
	"github.com/flowtrace/flowtrace/tracer"
)

var errExporterShutdown = errors.New("flowtrace: exporter is shut down")

// ExporterOption configures the OTLP and console exporters.
type ExporterOption interface{ applyExporter(*exporterConfig) }

type exporterOptionFunc func(*exporterConfig)

func (f exporterOptionFunc) applyExporter(c *exporterConfig) { f(c) }

type exporterConfig struct {
	name, version   string
	maxRequestBytes int
	logger          *slog.Logger
}

func newExporterConfig(opts []ExporterOption) exporterConfig {
	c := exporterConfig{name: DefaultScopeName, version: DefaultScopeVersion, maxRequestBytes: DefaultMaxRequestBytes}
	for _, o := range opts {
		if o != nil {
			o.applyExporter(&c)
		}
	}
	switch {
	case c.maxRequestBytes <= 0:
		c.maxRequestBytes = DefaultMaxRequestBytes
	case c.maxRequestBytes < MinMaxRequestBytes:
		c.maxRequestBytes = MinMaxRequestBytes
	}
	return c
}

// WithScope sets the instrumentation scope name and version written into
// every batch (default DefaultScopeName, DefaultScopeVersion).
func WithScope(name, version string) ExporterOption {
	return exporterOptionFunc(func(c *exporterConfig) { c.name, c.version = name, version })
}

// WithMaxRequestBytes bounds the uncompressed size of one OTLP request
// (FLOWTRACE_OTLP_MAX_REQUEST_BYTES; default DefaultMaxRequestBytes, at
// least MinMaxRequestBytes). A batch that would be larger is sent as
// several requests; a span that alone is larger is trimmed to fit.
func WithMaxRequestBytes(n int) ExporterOption {
	return exporterOptionFunc(func(c *exporterConfig) { c.maxRequestBytes = n })
}

// WithExporterLogger sets where the OTLP exporter reports splits and
// trims (default: none).
func WithExporterLogger(l *slog.Logger) ExporterOption {
	return exporterOptionFunc(func(c *exporterConfig) { c.logger = l })
}

func cloneAttrs(a []tracer.Attribute) []tracer.Attribute {
	return append([]tracer.Attribute(nil), a...)
}

// OTLPExporter converts spans with a Converter, encodes them into requests
// no larger than the request limit and sends them through a Transport.
type OTLPExporter struct {
	transport Transport
	resource  []tracer.Attribute
	cfg       exporterConfig

	mu      sync.Mutex
	stopped bool

	// convMu serialises Export: the converter's objects are reused by the
	// next batch, and limit adapts to what the collector accepted.
	convMu sync.Mutex
	conv   Converter
	limit  int
	// Scratch of Export, reused batch after batch (under convMu).
	flat      []scopedSpan
	scopeBase []int
	reqScopes []*tracepb.ScopeSpans
	reqSpans  []*tracepb.Span
	// Scratch of exportEncoded (under convMu); resourceMsg is the
	// encoded Resource, made once.
	encInit     bool
	resourceMsg []byte
	encScopes   []tracer.Scope
	encCounts   []int
	encIdx      []int
	encItems    []encItem
	encHeaders  [][]byte

	trimmed atomic.Int64
}

var _ Exporter = (*OTLPExporter)(nil)

// NewOTLP returns an exporter sending through t (from NewOTLPClient,
// NewOTLPGRPC or NewOTLPHTTP) with the given resource attributes.
func NewOTLP(t Transport, resource []tracer.Attribute, opts ...ExporterOption) *OTLPExporter {
	cfg := newExporterConfig(opts)
	return &OTLPExporter{transport: t, resource: cloneAttrs(resource), cfg: cfg, limit: cfg.maxRequestBytes}
}

// OutcomeError reports an Export whose spans did not all fare the same:
// Failed spans were not delivered, Rejected ones were refused by the
// collector (partial success), Unconfirmed ones were sent without an
// answer; the rest were exported. Err is the last error.
type OutcomeError struct {
	Failed, Rejected, Unconfirmed int64
	Message                       string // the collector's partial success message
	Err                           error
}

func (e *OutcomeError) Error() string {
	return fmt.Sprintf("flowtrace: %d span(s) failed, %d rejected, %d unconfirmed: %v", e.Failed, e.Rejected, e.Unconfirmed, e.Err)
}

func (e *OutcomeError) Unwrap() error { return e.Err }

// outcome accumulates the requests of one Export.
type outcome struct {
	failed, rejected, unconfirmed int64
	msg                           string
	err                           error
}

// requestSlack covers the length prefixes of ResourceSpans and ScopeSpans,
// which grow with their content.
const requestSlack = 32

// scopeSlack covers the growth of the length prefix of each further
// ScopeSpans in a request.
const scopeSlack = 8

// trimmedStringBytes bounds the name, status message and tracestate of a
// span that alone exceeds the request limit.
const trimmedStringBytes = 4096

// maxSplitDepth bounds the halvings of one batch after "too large" answers.
const maxSplitDepth = 24

// scopedSpan is a converted span and the index of its ScopeSpans in the
// batch: requests are cut across scopes, and each request rebuilds the
// ScopeSpans of the spans it carries.
type scopedSpan struct {
	scope int
	span  *tracepb.Span
}

// Export converts and sends spans. It returns nil when the collector
// accepted every span; a *RejectedError for an OTLP partial success alone;
// an *OutcomeError when some spans failed or were unconfirmed (the Batcher
// counts each group apart).
func (e *OTLPExporter) Export(ctx context.Context, spans []*tracer.SpanData) error {
	e.mu.Lock()
	stopped := e.stopped
	e.mu.Unlock()
	if stopped {
		return errExporterShutdown
	}
	e.convMu.Lock()
	defer e.convMu.Unlock()
	rs := e.conv.Convert(e.resource, e.cfg.name, e.cfg.version, spans)
	if rs == nil {
		return nil
	}
	scopes := rs[0].ScopeSpans
	all := e.flat[:0]
	for i, ss := range scopes {
		for _, sp := range ss.Spans {
			all = append(all, scopedSpan{scope: i, span: sp})
		}
	}
	e.flat = all
	// The size of a request without spans, and of each scope's ScopeSpans
	// without spans.
	scopeBase := e.scopeBase[:0]
	for _, ss := range scopes {
		scopeBase = append(scopeBase, fieldSize(proto.Size(&tracepb.ScopeSpans{Scope: ss.Scope, SchemaUrl: ss.SchemaUrl}))+scopeSlack)
	}
	e.scopeBase = scopeBase
	rs[0].ScopeSpans = nil
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: rs}
	base := proto.Size(req) + requestSlack
	var out outcome
	start, size, last := 0, base, -1
	for i, it := range all {
		n := fieldSize(proto.Size(it.span))
		if it.scope != last {
			n += scopeBase[it.scope]
		}
		if one := base + scopeBase[it.scope] + fieldSize(proto.Size(it.span)); one > e.limit {
			e.trim(it.span, e.limit-base-scopeBase[it.scope])
			n = fieldSize(proto.Size(it.span))
			if it.scope != last {
				n += scopeBase[it.scope]
			}
		}
		if i > start && size+n > e.limit {
			e.send(ctx, req, scopes, all[start:i], &out, 0)
			start, size = i, base
			// The new request starts this span's scope again.
			n = fieldSize(proto.Size(it.span)) + scopeBase[it.scope]
		}
		size += n
		last = it.scope
	}
	e.send(ctx, req, scopes, all[start:], &out, 0)
	rs[0].ScopeSpans = scopes
	clear(e.flat)

	return out.result()
}

// request points req at the spans of chunk, one ScopeSpans for each run
// of spans of one scope (chunk keeps the batch's order, so a scope is one
// run unless the chunk is cut inside it).
func (e *OTLPExporter) request(req *coltracepb.ExportTraceServiceRequest, scopes []*tracepb.ScopeSpans, chunk []scopedSpan) {
	e.reqScopes = e.reqScopes[:0]
	e.reqSpans = e.reqSpans[:0]
	for _, it := range chunk {
		e.reqSpans = append(e.reqSpans, it.span)
	}
	for i := 0; i < len(chunk); {
		j := i + 1
		for j < len(chunk) && chunk[j].scope == chunk[i].scope {
			j++
		}
		src := scopes[chunk[i].scope]
		e.reqScopes = append(e.reqScopes, &tracepb.ScopeSpans{Scope: src.Scope, SchemaUrl: src.SchemaUrl, Spans: e.reqSpans[i:j:j]})
		i = j
	}
	req.ResourceSpans[0].ScopeSpans = e.reqScopes
}

// send encodes and sends one request of chunk; a request the collector
// finds too large is split in halves, and a single span trimmed.
func (e *OTLPExporter) send(ctx context.Context, req *coltracepb.ExportTraceServiceRequest, scopes []*tracepb.ScopeSpans, chunk []scopedSpan, out *outcome, depth int) {
	if len(chunk) == 0 {
		return
	}
	e.request(req, scopes, chunk)
	// A fresh buffer per request: a transport may still reference the
	// bytes of an abandoned call after Send returned.
	b, err := proto.Marshal(req)
	req.ResourceSpans[0].ScopeSpans = nil
	if err != nil {
		out.failed += int64(len(chunk))
		out.err = fmt.Errorf("flowtrace: encode OTLP: %w", err)
		return
	}
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
			e.trim(chunk[0].span, e.limit-(len(b)-fieldSize(proto.Size(chunk[0].span))))
			e.send(ctx, req, scopes, chunk, out, depth+1)
			return
		}
		half := len(chunk) / 2
		e.send(ctx, req, scopes, chunk[:half], out, depth+1)
		e.send(ctx, req, scopes, chunk[half:], out, depth+1)
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

// trim makes sp fit in budget encoded bytes (as a field of ScopeSpans):
// events go first, then attributes, then links, each from the end and
// counted in the span's dropped counts; then the name, status message and
// tracestate are cut to trimmedStringBytes. It returns the new field size.
func (e *OTLPExporter) trim(sp *tracepb.Span, budget int) int {
	size := fieldSize(proto.Size(sp))
	if size <= budget {
		return size
	}
	e.trimmed.Add(1)
	over := size - budget
	for over > 0 && len(sp.Events) > 0 {
		last := len(sp.Events) - 1
		over -= fieldSize(proto.Size(sp.Events[last]))
		sp.Events = sp.Events[:last]
		sp.DroppedEventsCount++
	}
	for over > 0 && len(sp.Attributes) > 0 {
		last := len(sp.Attributes) - 1
		over -= fieldSize(proto.Size(sp.Attributes[last]))
		sp.Attributes = sp.Attributes[:last]
		sp.DroppedAttributesCount++
	}
	for over > 0 && len(sp.Links) > 0 {
		last := len(sp.Links) - 1
		over -= fieldSize(proto.Size(sp.Links[last]))
		sp.Links = sp.Links[:last]
		sp.DroppedLinksCount++
	}
	if over > 0 {
		sp.Name = cutUTF8(sp.Name, trimmedStringBytes)
		sp.TraceState = cutUTF8(sp.TraceState, trimmedStringBytes)
		if sp.Status != nil {
			sp.Status.Message = cutUTF8(sp.Status.Message, trimmedStringBytes)
		}
	}
	size = fieldSize(proto.Size(sp))
	sdklog.Warnf(e.cfg.logger, "export: a span alone exceeded the request limit; trimmed to %d bytes (events, attributes, links dropped and counted on the span)", size)
	return size
}

// Trimmed returns how many spans were trimmed because they alone exceeded
// the request limit.
func (e *OTLPExporter) Trimmed() int64 { return e.trimmed.Load() }

// fieldSize is the encoded size of a length-delimited field of n bytes
// with a one-byte tag.
func fieldSize(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Shutdown closes the transport. Later Exports fail.
func (e *OTLPExporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	e.stopped = true
	return e.transport.Close(ctx)
}
