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
}

func newConfig(opts []Option) config {
	c := config{every: 8 << 20}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithFormat skips detection and reads the given format.
func WithFormat(f Format) Option { return optionFunc(func(c *config) { c.format = f }) }

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

// ReadFile reads a trace file (see the package documentation for formats).
// Errors name the file and, for JSON, the line.
func ReadFile(path string, opts ...Option) ([]*trace.Span, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path, opts...)
}

// Read reads trace data from r; name is used in errors and progress.
func Read(r io.Reader, name string, opts ...Option) ([]*trace.Span, error) {
	cfg := newConfig(opts)
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	format := cfg.format
	if format == FormatAuto {
		format = detect(br)
	}
	cr := &countingReader{r: br, cfg: &cfg, name: name}
	var spans []*trace.Span
	var err error
	if format == FormatOTLPJSON {
		spans, err = readJSON(cr, name)
	} else {
		spans, err = readProto(cr, name)
	}
	if err != nil {
		return nil, err
	}
	cr.spans = len(spans)
	cr.report(true)
	return spans, nil
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

// countingReader counts bytes and newlines for progress and line numbers.
type countingReader struct {
	r     io.Reader
	cfg   *config
	name  string
	n     int64
	next  int64
	spans int
	// nl holds the offsets of newlines seen, for mapping offsets to lines.
	nl []int64
}

func (c *countingReader) Read(p []byte) (int, error) {
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

func (c *countingReader) report(done bool) {
	if c.cfg.progress != nil {
		c.cfg.progress(Progress{Name: c.name, Bytes: c.n, Spans: c.spans, Done: done})
	}
}

// line returns the 1-based line of a byte offset.
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
	return lo + 1
}

func readJSON(cr *countingReader, name string) ([]*trace.Span, error) {
	dec := json.NewDecoder(cr)
	var out []*trace.Span
	var um ptrace.JSONUnmarshaler
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		// The decoder has just consumed the document.
		docLine := func() int { return cr.line(dec.InputOffset() - int64(len(raw))) }
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%s:%d: invalid JSON: %v", name, cr.line(se.Offset-1), se)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%s:%d: truncated JSON document", name, cr.line(cr.n))
			}
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, fmt.Errorf("%s:%d: invalid JSON: %v", name, cr.line(te.Offset), err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(bytes.TrimSpace(raw)) == 0 || raw[0] != '{' {
			return nil, fmt.Errorf("%s:%d: want an OTLP ExportTraceServiceRequest object, got %.20s", name, cr.line(dec.InputOffset()), raw)
		}
		td, err := um.UnmarshalTraces(raw)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: invalid OTLP/JSON: %v", name, docLine(), err)
		}
		spans, err := FromPtrace(td)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, docLine(), err)
		}
		out = append(out, spans...)
		cr.spans = len(out)
	}
}

// maxProtoBytes bounds a protobuf file; OTLP requests are far smaller.
const maxProtoBytes = 1 << 30

func readProto(cr *countingReader, name string) ([]*trace.Span, error) {
	raw, err := io.ReadAll(io.LimitReader(cr, maxProtoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(raw) > maxProtoBytes {
		return nil, fmt.Errorf("%s: protobuf file larger than %d bytes", name, maxProtoBytes)
	}
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid OTLP protobuf (want one ExportTraceServiceRequest per file): %v", name, err)
	}
	spans, err := FromPtrace(td)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return spans, nil
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
