package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/flowtrace/flowtrace/analysis/trace"
)

// Format is a trace file format.
type Format int

// Formats. FormatAuto detects the format from the content.
const (
	FormatAuto Format = iota
	FormatOTLPJSON
	FormatOTLPProto
)

// Progress reports how far a read has got.
type Progress struct {
	Name  string // file name or URL
	Bytes int64  // bytes read so far (uncompressed)
	Spans int    // spans decoded so far
	Done  bool   // the last report for this source
}

// Option configures a read.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	format   Format
	progress func(Progress)
	every    int64
	maxDoc   int64
	at       io.ReaderAt // the input file, for reading ahead
}

// DefaultMaxDocumentBytes bounds one OTLP/JSON document (one line of a
// JSON Lines file). Exporters send requests of a few MiB at most.
const DefaultMaxDocumentBytes = 64 << 20

func newConfig(opts []Option) config {
	c := config{every: 8 << 20, maxDoc: DefaultMaxDocumentBytes}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithFormat skips detection and reads the given format.
func WithFormat(f Format) Option { return optionFunc(func(c *config) { c.format = f }) }

// WithMaxDocumentBytes bounds the size of one OTLP/JSON document
// ([DefaultMaxDocumentBytes] by default; n <= 0 means no bound). A larger
// document is an error naming its line, not an unbounded allocation.
func WithMaxDocumentBytes(n int64) Option {
	return optionFunc(func(c *config) { c.maxDoc = n })
}

// WithProgress calls fn after about every `every` bytes read (8 MiB when
// every <= 0) and once at the end. A nil fn is ignored.
func WithProgress(fn func(Progress), every int64) Option {
	return optionFunc(func(c *config) {
		if fn == nil {
			return
		}
		c.progress = fn
		if every > 0 {
			c.every = every
		}
	})
}

// ReadFile reads a whole trace file into memory (see the package
// documentation for formats). Errors name the file and, for JSON, the line.
// For large files use [StreamFile], which holds one chunk at a time.
func ReadFile(path string, opts ...Option) ([]*trace.Span, error) {
	var out []*trace.Span
	err := StreamFile(path, func(spans []*trace.Span) error {
		out = append(out, spans...)
		return nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Read reads trace data from r into memory; name is used in errors and
// progress.
func Read(r io.Reader, name string, opts ...Option) ([]*trace.Span, error) {
	var out []*trace.Span
	err := Stream(r, name, func(spans []*trace.Span) error {
		out = append(out, spans...)
		return nil
	}, opts...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StreamFile is [Stream] on the file at path.
func StreamFile(path string, fn func([]*trace.Span) error, opts ...Option) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// An uncompressed protobuf file can be read ahead (see streamProto).
	return Stream(f, path, fn, append(opts, optionFunc(func(c *config) { c.at = f }))...)
}

// Stream reads trace data from r incrementally and calls fn with the spans
// of each chunk, in input order: one OTLP/JSON document, or up to
// [ChunkSpans] spans of a protobuf request. It holds one chunk at a time,
// so memory does not grow with the input (a JSON document is bounded by
// [WithMaxDocumentBytes]). fn may keep the slice. An error from fn stops
// the read and is returned as it is; name is used in errors and progress.
func Stream(r io.Reader, name string, fn func([]*trace.Span) error, opts ...Option) error {
	cfg := newConfig(opts)
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		cfg.at = nil // offsets are in the decompressed stream
	}
	format := cfg.format
	if format == FormatAuto {
		format = detect(br)
	}
	cr := &countingReader{r: br, cfg: &cfg, name: name}
	count := func(spans []*trace.Span) error {
		cr.spans += len(spans)
		return fn(spans)
	}
	var err error
	if format == FormatOTLPJSON {
		err = streamJSON(cr, name, count)
	} else {
		err = streamProto(bufio.NewReaderSize(cr, 64<<10), cfg.at, name, count)
	}
	if err != nil {
		return err
	}
	cr.report(true)
	return nil
}

func detect(br *bufio.Reader) Format {
	for i := 1; i <= 4096; i++ {
		b, err := br.Peek(i)
		if len(b) < i {
			_ = err
			return FormatOTLPJSON // empty or blank: nothing to read either way
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return FormatOTLPJSON
		}
		return FormatOTLPProto
	}
	return FormatOTLPJSON
}

// errDocTooLarge is returned by countingReader when one JSON document
// outgrows the limit; the decoder passes it on.
var errDocTooLarge = errors.New("document too large")

// countingReader counts bytes and newlines for progress and line numbers,
// and bounds the size of the JSON document being decoded.
type countingReader struct {
	r     io.Reader
	cfg   *config
	name  string
	n     int64
	next  int64
	spans int
	// nl holds the offsets of the newlines seen from docStart on; base is
	// the number of newlines before them. Trimming at each document keeps
	// nl as small as the decoder's buffer.
	nl       []int64
	base     int
	docStart int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.cfg.maxDoc > 0 && c.n-c.docStart > c.cfg.maxDoc {
		return 0, errDocTooLarge
	}
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.nl = append(c.nl, c.n+int64(i))
		}
	}
	c.n += int64(n)
	if c.cfg.progress != nil && c.n >= c.next {
		if c.next > 0 {
			c.report(false)
		}
		c.next = c.n + c.cfg.every
	}
	return n, err
}

// startDoc records that the next document starts at off.
func (c *countingReader) startDoc(off int64) {
	c.docStart = off
	i := 0
	for i < len(c.nl) && c.nl[i] < off {
		i++
	}
	c.base += i
	c.nl = append(c.nl[:0], c.nl[i:]...)
}

func (c *countingReader) report(done bool) {
	if c.cfg.progress != nil {
		c.cfg.progress(Progress{Name: c.name, Bytes: c.n, Spans: c.spans, Done: done})
	}
}

// line returns the 1-based line of a byte offset at or after the current
// document's start.
func (c *countingReader) line(off int64) int {
	lo, hi := 0, len(c.nl)
	for lo < hi {
		m := (lo + hi) / 2
		if c.nl[m] < off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return c.base + lo + 1
}

func streamJSON(cr *countingReader, name string, fn func([]*trace.Span) error) error {
	dec := json.NewDecoder(cr)
	var um ptrace.JSONUnmarshaler
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		// The decoder has just consumed the document.
		docLine := func() int { return cr.line(dec.InputOffset() - int64(len(raw))) }
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("%s:%d: invalid JSON: %v", name, cr.line(se.Offset-1), se)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%s:%d: truncated JSON document", name, cr.line(cr.n))
			}
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return fmt.Errorf("%s:%d: invalid JSON: %v", name, cr.line(te.Offset), err)
			}
			if errors.Is(err, errDocTooLarge) {
				return fmt.Errorf("%s:%d: a JSON document larger than %d bytes (raise the limit, or split the file into one request per line)",
					name, cr.line(cr.docStart+1), cr.cfg.maxDoc)
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 || raw[0] != '{' {
			return fmt.Errorf("%s:%d: want an OTLP ExportTraceServiceRequest object, got %.20s", name, cr.line(dec.InputOffset()), raw)
		}
		td, err := um.UnmarshalTraces(raw)
		if err != nil {
			return fmt.Errorf("%s:%d: invalid OTLP/JSON: %v", name, docLine(), err)
		}
		spans, err := FromPtrace(td)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, docLine(), err)
		}
		cr.startDoc(dec.InputOffset())
		if err := fn(spans); err != nil {
			return err
		}
	}
}

// FromPtrace converts pdata traces to the model. It fails, naming the field,
// on a span without a trace id or span id.
func FromPtrace(td ptrace.Traces) ([]*trace.Span, error) {
	out := make([]*trace.Span, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource().Attributes().AsRaw()
		service := "unknown"
		if v, ok := res[trace.AttrServiceName].(string); ok && v != "" {
			service = v
		}
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			sps := sss.At(j).Spans()
			for k := 0; k < sps.Len(); k++ {
				sp := sps.At(k)
				if sp.TraceID().IsEmpty() {
					return nil, fmt.Errorf("resourceSpans[%d].scopeSpans[%d].spans[%d].traceId: missing or zero", i, j, k)
				}
				if sp.SpanID().IsEmpty() {
					return nil, fmt.Errorf("resourceSpans[%d].scopeSpans[%d].spans[%d].spanId: missing or zero", i, j, k)
				}
				s := &trace.Span{
					TraceID:       sp.TraceID().String(),
					SpanID:        sp.SpanID().String(),
					Service:       service,
					Name:          sp.Name(),
					Kind:          trace.Kind(sp.Kind()),
					Start:         sp.StartTimestamp().AsTime(),
					End:           sp.EndTimestamp().AsTime(),
					Error:         sp.Status().Code() == ptrace.StatusCodeError,
					StatusMessage: sp.Status().Message(),
					Attributes:    sp.Attributes().AsRaw(),
					Resource:      res,
				}
				if !sp.ParentSpanID().IsEmpty() {
					s.ParentID = sp.ParentSpanID().String()
				}
				links := sp.Links()
				for l := 0; l < links.Len(); l++ {
					ln := links.At(l)
					s.Links = append(s.Links, trace.Link{TraceID: ln.TraceID().String(), SpanID: ln.SpanID().String()})
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}
