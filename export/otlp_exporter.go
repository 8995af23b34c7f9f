package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
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

// OTLPExporter encodes spans to OTLP protobuf, builds requests no larger
// than the request limit and sends them through a Transport. Export (spans
// as *tracer.SpanData) and exportEncoded (spans a Batcher encoded when they
// finished) share one path: Export encodes the batch, then sends it as
// exportEncoded does.
type OTLPExporter struct {
	transport Transport
	resource  []tracer.Attribute
	cfg       exporterConfig

	mu      sync.Mutex
	stopped bool

	// sendMu serialises exports: the scratch below is reused by the next
	// batch, and limit adapts to what the collector accepted.
	sendMu sync.Mutex
	limit  int
	// Scratch of Export (under sendMu): the batch's encoded spans.
	expBuf   []byte
	expSpans []encodedSpan
	// Scratch of exportLocked (under sendMu); resourceMsg is the encoded
	// Resource, made once.
	encInit     bool
	resourceMsg []byte
	encScopes   []tracer.Scope
	encCounts   []int
	encIdx      []int
	encItems    []encItem
	encHeaders  [][]byte
	scopeBase   []int

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

// maxKeptExportBuf bounds the encoding scratch Export keeps between
// batches (a batch of huge spans leaves its buffer to the collector).
const maxKeptExportBuf = 4 << 20

// Export encodes spans (the rules of ToOTLP: every string made valid
// UTF-8, so one bad span cannot fail a batch) and sends them. It returns
// nil when the collector accepted every span; a *RejectedError for an OTLP
// partial success alone; an *OutcomeError when some spans failed or were
// unconfirmed (the Batcher counts each group apart).
func (e *OTLPExporter) Export(ctx context.Context, spans []*tracer.SpanData) error {
	if e.isStopped() {
		return errExporterShutdown
	}
	if len(spans) == 0 {
		return nil
	}
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	buf, enc := e.expBuf[:0], e.expSpans[:0]
	for _, s := range spans {
		// A span's bytes stay valid when buf grows: appendSpan only
		// appends, and a slice keeps the array it points into.
		start := len(buf)
		buf = appendSpan(buf, s)
		enc = append(enc, encodedSpan{scope: s.Scope, b: buf[start:len(buf):len(buf)]})
	}
	err := e.exportLocked(ctx, enc)
	clear(enc)
	e.expSpans = enc[:0]
	if cap(buf) <= maxKeptExportBuf {
		e.expBuf = buf[:0]
	} else {
		e.expBuf = nil
	}
	return err
}

func (e *OTLPExporter) isStopped() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopped
}

// trim makes sp fit in budget encoded bytes (as a field of ScopeSpans):
// events go first, then attributes, then links, each from the end and
// counted in the span's dropped counts; then the name, status message and
// tracestate are cut to trimmedStringBytes. It returns the new field size.
func (e *OTLPExporter) trim(sp *tracepb.Span, budget int) int {
	size := lenFieldSize(proto.Size(sp))
	if size <= budget {
		return size
	}
	e.trimmed.Add(1)
	over := size - budget
	for over > 0 && len(sp.Events) > 0 {
		last := len(sp.Events) - 1
		over -= lenFieldSize(proto.Size(sp.Events[last]))
		sp.Events = sp.Events[:last]
		sp.DroppedEventsCount++
	}
	for over > 0 && len(sp.Attributes) > 0 {
		last := len(sp.Attributes) - 1
		over -= lenFieldSize(proto.Size(sp.Attributes[last]))
		sp.Attributes = sp.Attributes[:last]
		sp.DroppedAttributesCount++
	}
	for over > 0 && len(sp.Links) > 0 {
		last := len(sp.Links) - 1
		over -= lenFieldSize(proto.Size(sp.Links[last]))
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
	size = lenFieldSize(proto.Size(sp))
	sdklog.Warnf(e.cfg.logger, "export: a span alone exceeded the request limit; trimmed to %d bytes (events, attributes, links dropped and counted on the span)", size)
	return size
}

// Trimmed returns how many spans were trimmed because they alone exceeded
// the request limit.
func (e *OTLPExporter) Trimmed() int64 { return e.trimmed.Load() }

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
